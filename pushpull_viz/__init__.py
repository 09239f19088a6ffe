"""pushpull-viz: the push-pull inhibition layer for CNNs, its models, and tools to see and test it.

    >>> import torch, pushpull_viz as ppv
    >>> model = ppv.build_model("resnet20", pushpull=True)     # the paper's ResNet-20-PP
    >>> model(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 10])
"""

from .convert import conv_layer_names, convert_to_pushpull
from .layers import PushPull2d, push_pull2d, push_pull2d_reference
from .models import build_model, list_models, load_model_from_checkpoint
from .pretrained import list_pretrained, load_pretrained

__all__ = [
    "PushPull2d",
    "build_model",
    "conv_layer_names",
    "convert_to_pushpull",
    "list_models",
    "list_pretrained",
    "load_model_from_checkpoint",
    "load_pretrained",
    "push_pull2d",
    "push_pull2d_reference",
]
__version__ = "0.1.0"
