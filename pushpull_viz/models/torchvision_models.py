"""torchvision classifiers by name (``tv-resnet50``, ...), with push-pull layers where you choose.

The registry names ``tv-<arch>`` for any classification architecture of ``torchvision.models``; the
ResNets are listed up front. Each is built with random weights (nothing is downloaded), takes images in
[0, 1] and normalises them with ImageNet's statistics inside, like the paper's models. ``pushpull=True``
replaces the first convolution by a push-pull layer as
:func:`~pushpull_viz.convert.convert_to_pushpull` does, or the convolutions named in ``pushpull_layers``.
To fine-tune from trained weights, build the model and call :func:`load_backbone_weights`: a torchvision
state dict loads into the push kernels of the converted layers (the paper's suggestion: put push-pull
into a trained network, then fine-tune).

Example:
    >>> model = TorchvisionClassifier("resnet18", num_classes=10, pushpull=True)
    >>> type(model.net.conv1).__name__, tuple(model(torch.rand(2, 3, 64, 64)).shape)
    ('PushPull2d', (2, 10))
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from ..convert import convert_to_pushpull
from ..layers import PushPullLayer
from .common import Normalize

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "TORCHVISION_RESNETS", "TorchvisionClassifier", "load_backbone_weights",
           "torchvision_architectures"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Registered up front as ``tv-<name>``; any other torchvision classifier is found by name when asked for.
TORCHVISION_RESNETS = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "wide_resnet50_2")


def torchvision_architectures() -> list[str]:
    """Names of torchvision's image classification architectures (``torchvision.models.list_models``)."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


class TorchvisionClassifier(nn.Module):
    """A torchvision classifier (random weights) behind ImageNet normalisation, optionally with push-pull.

    Args:
        arch: a torchvision architecture name (:func:`torchvision_architectures`), e.g. ``"resnet50"``.
        num_classes: outputs of the classifier.
        normalize: normalise [0, 1] inputs with ImageNet's mean and std inside (``False``: feed
            normalised images).
        pushpull: replace convolutions by push-pull layers initialised with their weights.
        pushpull_layers: ``"first"`` (the paper's choice), ``"all"`` or names of convolutions of
            :attr:`net` (e.g. ``["conv1", "layer1.0.conv1"]``).
        **layer_options: push-pull options (``alpha``, ``scale``, ``trainable_alpha``, ``variant``, ...).

    Shape:
        - Input: ``(N, 3, H, W)``, images in [0, 1]; ImageNet models expect ``H = W = 224`` but take other sizes.
        - Output: ``(N, num_classes)`` logits.
    """

    def __init__(self, arch: str, num_classes: int = 1000, normalize: bool = True, pushpull: bool = False,
                 pushpull_layers: str | Sequence[str] = "first", **layer_options) -> None:
        super().__init__()
        import torchvision

        names = torchvision_architectures()
        if arch not in names:
            raise ValueError(f"unknown torchvision architecture {arch!r}; valid names: {', '.join(names)}")
        if not pushpull and (layer_options or pushpull_layers != "first"):
            raise ValueError(f"push-pull options ({', '.join([*layer_options, 'pushpull_layers'])}) need "
                             "pushpull=True")
        self.normalize = Normalize(IMAGENET_MEAN, IMAGENET_STD) if normalize else nn.Identity()
        self.net = torchvision.models.get_model(arch, weights=None, num_classes=num_classes)
        if pushpull:
            layers = pushpull_layers if isinstance(pushpull_layers, str) else list(pushpull_layers)
            convert_to_pushpull(self.net, layers, inplace=True, **layer_options)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(self.normalize(x))


def load_backbone_weights(model: nn.Module, path: str | os.PathLike, skip_mismatched: bool = True) -> list[str]:
    """Load a torchvision state dict (e.g. ``resnet50-0676ba61.pth``) into a :class:`TorchvisionClassifier`,
    before fine-tuning.

    Convolutions that became push-pull layers take the trained weights as their push kernels
    (``conv1.weight`` -> ``conv1.push.weight``). With ``skip_mismatched``, tensors whose shape differs
    (the classifier of a model with another number of classes) keep their fresh initialisation.
    Any other missing or unexpected name is an error.

    Returns:
        The names left at their initialisation (shape mismatch), for the log.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"--init-from: {path.resolve()} is not a file")
    net = model.net if isinstance(model, TorchvisionClassifier) else model
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict of tensors, got {type(state).__name__}")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    pushpull = {name for name, module in net.named_modules() if isinstance(module, PushPullLayer)}
    renamed = {}
    for key, value in state.items():
        owner, _, leaf = key.rpartition(".")
        renamed[f"{owner}.push.{leaf}" if owner in pushpull and leaf in ("weight", "bias") else key] = value
    own = net.state_dict()
    skipped = [k for k, v in renamed.items() if k in own and own[k].shape != v.shape]
    if skipped and not skip_mismatched:
        raise ValueError(f"{path}: shapes differ for {', '.join(skipped)}")
    for key in skipped:
        renamed[key] = own[key]
    # a push-pull layer with bias keeps it outside the push conv: map it there
    for name in pushpull:
        layer = net.get_submodule(name)
        if f"{name}.push.bias" in renamed and getattr(layer.push, "bias", None) is None:
            renamed[f"{name}.bias"] = renamed.pop(f"{name}.push.bias")
    missing, unexpected = net.load_state_dict(renamed, strict=False)
    missing = [k for k in missing if not k.endswith("alpha")]  # a learned alpha is new: keeps its initialisation
    if missing or unexpected:
        raise ValueError(f"{path} does not fit this model: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return skipped
