"""The PushPull-Net unit (Bennabhaktula, Alegre, Strisciuglio, Azzopardi, ICPR 2024).

    P(I) = ReLU(k * I) - alpha * ReLU(avgpool(k_inv * I)) + b

The 2024 follow-up of the paper's layer keeps the idea (a pull branch of opposite polarity
derived from the learned push kernel) but changes the pull: ``k_inv = -k + max(k) + min(k)``
per output filter, at the push kernel's own size (:func:`pushpull_net_pull_kernel`), and its
response is average-pooled (stride 1) before the ReLU. The bias is added after the combination.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checks import check_alpha, check_conv_input, check_int
from .base import DEFAULT_ALPHA, PushPullLayer, PushPullResponses, add_channel_bias, combine_responses
from .pull_kernel import pushpull_net_pull_kernel
from .push_pull import IntPair, Relu

__all__ = ["PushPullNet2d", "pushpull_net2d", "pushpull_net_responses"]


def _check_pool(avg_kernel_size: int) -> int:
    size = check_int(avg_kernel_size, "avg_kernel_size", 1)
    if size % 2 == 0:
        raise ValueError(f"avg_kernel_size must be a positive odd integer (3 or 5), got {avg_kernel_size!r}")
    return size


def pushpull_net_responses(input: Tensor, weight: Tensor, stride: IntPair = 1, padding: IntPair = 0,
                           dilation: IntPair = 1, groups: int = 1, avg_kernel_size: int = 3, *,
                           relus: tuple[Relu, Relu] | None = None) -> PushPullResponses:
    """The two rectified branches: ``push = ReLU(k * I)`` and ``pull = ReLU(avgpool(k_inv * I))``.

    Shape:
        - input: ``(N, C_in, H, W)``; weight: ``(C_out, C_in / groups, kh, kw)``
        - push, pull: ``(N, C_out, H_out, W_out)``
    """
    check_conv_input(input, weight, groups)
    size = _check_pool(avg_kernel_size)
    push_relu, pull_relu = relus or (F.relu, F.relu)
    push_pre = F.conv2d(input, weight, None, stride, padding, dilation, groups)
    pull_pre = F.conv2d(input, pushpull_net_pull_kernel(weight), None, stride, padding, dilation, groups)
    pull_pre = F.avg_pool2d(pull_pre, size, stride=1, padding=size // 2, count_include_pad=False)
    return PushPullResponses(push_relu(push_pre), pull_relu(pull_pre))


def pushpull_net2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, alpha: float | Tensor = DEFAULT_ALPHA,
                   stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1,
                   avg_kernel_size: int = 3, *, relus: tuple[Relu, Relu] | None = None) -> Tensor:
    """Functional PushPull-Net unit: ``ReLU(k * I) - alpha * ReLU(avgpool(k_inv * I)) + bias``.

    Shape:
        - input: ``(N, C_in, H, W)``; weight: ``(C_out, C_in / groups, kh, kw)``; bias ``(C_out,)``
        - output: ``(N, C_out, H_out, W_out)``

    Example:
        >>> pushpull_net2d(torch.rand(2, 3, 16, 16), torch.randn(8, 3, 3, 3), padding=1).shape
        torch.Size([2, 8, 16, 16])
    """
    alpha = check_alpha(alpha)
    push, pull = pushpull_net_responses(input, weight, stride, padding, dilation, groups, avg_kernel_size, relus=relus)
    out = combine_responses(push, pull, alpha)
    return add_channel_bias(out, bias)


class PushPullNet2d(PushPullLayer):
    """The PushPull-Net unit (ICPR 2024) as a drop-in for ``nn.Conv2d``; see :func:`pushpull_net2d`.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups: as for ``nn.Conv2d``.
        bias: a bias per output channel, added after the combination (a parameter ``bias``).
        alpha, trainable_alpha: as for :class:`~pushpull_viz.layers.PushPull2d`.
        avg_kernel_size: window of the pull branch's average pooling (3 or 5).

    Shape:
        - Input: ``(N, C_in, H, W)``; Output: ``(N, C_out, H_out, W_out)``.

    Example:
        >>> layer = PushPullNet2d(3, 4, 3, padding=1, bias=True)
        >>> layer(torch.rand(1, 3, 8, 8)).shape, sorted(layer.state_dict())
        (torch.Size([1, 4, 8, 8]), ['bias', 'push.weight'])
    """

    variant = "2024"

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1, bias: bool = False,
                 alpha: float = DEFAULT_ALPHA, trainable_alpha: bool = False, *, avg_kernel_size: int = 3,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, False, alpha,
                         trainable_alpha, device, dtype)
        self.avg_kernel_size = _check_pool(avg_kernel_size)
        self.bias = nn.Parameter(torch.zeros(out_channels, device=device, dtype=dtype)) if bias else None

    @property
    def pull_weight(self) -> Tensor:
        """The pull kernel ``-k + max(k) + min(k)`` per filter, shape ``(out, in / groups, kh, kw)``."""
        return pushpull_net_pull_kernel(self.push.weight)

    def forward(self, input: Tensor) -> Tensor:
        push = self.push
        return pushpull_net2d(input, push.weight, self.bias, self.alpha, push.stride, push.padding, push.dilation,
                              push.groups, self.avg_kernel_size, relus=(self.push_relu, self.pull_relu))

    def push_pull_responses(self, input: Tensor) -> PushPullResponses:
        """The rectified push and (pooled) pull response maps.

        Shape:
            - input ``(N, C_in, H, W)``; each response ``(N, C_out, H_out, W_out)``.
        """
        push = self.push
        return pushpull_net_responses(input, push.weight, push.stride, push.padding, push.dilation, push.groups,
                                      self.avg_kernel_size, relus=(self.push_relu, self.pull_relu))

    def output_from_responses(self, push: Tensor, pull: Tensor, alpha: float | Tensor | None = None) -> Tensor:
        """``push - alpha * pull + bias`` (the layer's alpha unless another is given).

        Shape:
            - push, pull: ``(N, C_out, H, W)`` or ``(C_out, H, W)``; output: the same.
        """
        return add_channel_bias(super().output_from_responses(push, pull, alpha), self.bias)

    def extra_repr(self) -> str:
        return f"alpha={self._alpha_repr()}, avg_kernel_size={self.avg_kernel_size}"
