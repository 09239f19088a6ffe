"""Layers: the push-pull convolution (the paper's, and the 2024 PushPull-Net unit), their
functional forms, and the helpers that derive the pull kernel.

Reading order: ``pull_kernel.py`` (the pull kernel's size and up-sampling), ``base.py`` (what
the layer kinds share: alpha, the push conv, ``push - alpha * pull``), ``push_pull.py`` (the
paper's layer), ``pushpull_net.py`` (the 2024 unit), ``factory.py`` (layers by name, the first
convolution of a model).
"""

from .base import DEFAULT_ALPHA, PushPullLayer, PushPullResponses, add_channel_bias, combine_responses
from .factory import VARIANTS, create_pushpull, first_conv, given_options, named_first_conv, named_last_conv
from .pull_kernel import (
    MAX_PULL_KERNEL_SIZE,
    PullGeometry,
    interpolation_matrix,
    pull_geometry,
    pull_kernel_size,
    pushpull_net_pull_kernel,
    upsample_kernel,
    upsample_kernel_reference,
)
from .push_pull import (
    DEFAULT_SCALE,
    IMPLEMENTATIONS,
    PushPull2d,
    push_pull2d,
    push_pull2d_reference,
    push_pull_responses,
    select_route,
)
from .pushpull_net import PushPullNet2d, pushpull_net2d, pushpull_net_responses

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_SCALE",
    "IMPLEMENTATIONS",
    "MAX_PULL_KERNEL_SIZE",
    "PullGeometry",
    "PushPull2d",
    "PushPullLayer",
    "PushPullNet2d",
    "PushPullResponses",
    "VARIANTS",
    "add_channel_bias",
    "combine_responses",
    "create_pushpull",
    "first_conv",
    "given_options",
    "interpolation_matrix",
    "named_first_conv",
    "named_last_conv",
    "pull_geometry",
    "pull_kernel_size",
    "push_pull2d",
    "push_pull2d_reference",
    "push_pull_responses",
    "pushpull_net2d",
    "pushpull_net_pull_kernel",
    "pushpull_net_responses",
    "select_route",
    "upsample_kernel",
    "upsample_kernel_reference",
]
