"""Layers: the push-pull convolution and the helpers that derive its pull kernel."""

from .pull_kernel import (
    interpolation_matrix,
    pull_kernel_size,
    pushpull_net_pull_kernel,
    upsample_kernel,
    upsample_kernel_reference,
)
from .push_pull import (
    IMPLEMENTATIONS,
    PullGeometry,
    PushPull2d,
    PushPullResponses,
    pull_geometry,
    pull_preactivation,
    push_pull2d,
    push_pull2d_reference,
)

__all__ = [
    "IMPLEMENTATIONS",
    "PullGeometry",
    "PushPull2d",
    "PushPullResponses",
    "interpolation_matrix",
    "pull_geometry",
    "pull_kernel_size",
    "pull_preactivation",
    "push_pull2d",
    "push_pull2d_reference",
    "pushpull_net_pull_kernel",
    "upsample_kernel",
    "upsample_kernel_reference",
]
