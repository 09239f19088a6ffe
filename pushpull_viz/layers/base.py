"""What every push-pull layer kind shares: the push convolution, alpha, and the combination.

A push-pull layer has two branches computed from one learned kernel ``k``: the *push*
response ``ReLU(k * x)`` and the *pull* response ``ReLU(pull_kernel * x)`` (how the pull
kernel is derived is what distinguishes the kinds). Its output is the combination
``push - alpha * pull`` (:func:`combine_responses`), with the inhibition strength ``alpha``
fixed or learned per output channel.

:class:`PushPullLayer` is the small base class of the layer kinds (``push_pull.PushPull2d``,
the paper's; ``pushpull_net.PushPullNet2d``, the 2024 unit). It owns what they share: the
learned convolution ``self.push`` (so state dicts read ``push.weight`` as in the authors'
checkpoints), ``alpha`` (checked whenever it is set), and the two branch ReLU modules that
Captum's guided methods hook.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checks import check_alpha, check_int, check_int_pair

__all__ = ["DEFAULT_ALPHA", "PushPullLayer", "PushPullResponses", "add_channel_bias", "combine_responses"]

#: The paper's inhibition strength (section 3: alpha = 1); every layer, model and command uses it
#: unless given another value.
DEFAULT_ALPHA = 1.0


class PushPullResponses(NamedTuple):
    """The two rectified branches of a push-pull layer: ``push = ReLU(k * I)`` and
    ``pull = ReLU(pull_kernel * I)``; the layer's output is ``push - alpha * pull``."""

    push: Tensor
    pull: Tensor


def combine_responses(push: Tensor, pull: Tensor, alpha: float | Tensor) -> Tensor:
    """``push - alpha * pull``: the push-pull combination of the two rectified branches.

    A tensor ``alpha`` (learned, one value per channel, any shape with ``C`` elements such as
    ``(1, C, 1, 1)``) is clamped at 0, as in the layer, and broadcast over channel dimension 1
    of ``(N, C, H, W)`` maps or dimension 0 of ``(C, H, W)`` maps. Because push and pull do
    not depend on alpha, a figure or a slider can call this for any alpha without another
    convolution.

    Shape:
        - push, pull: ``(N, C, H, W)`` or ``(C, H, W)``, the same; output: the same.

    Example:
        >>> combine_responses(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 3.0]), 0.5).tolist()
        [1.5, -1.5]
    """
    if not isinstance(push, Tensor) or not isinstance(pull, Tensor):
        raise TypeError(f"push and pull must be tensors, got {type(push).__name__} and {type(pull).__name__}")
    if push.shape != pull.shape:
        raise ValueError(f"push and pull must have the same shape, got {tuple(push.shape)} and {tuple(pull.shape)}")
    if isinstance(alpha, Tensor) and alpha.numel() > 1:
        return torch.addcmul(push, F.relu(alpha).reshape(-1, 1, 1), pull, value=-1.0)
    if isinstance(alpha, Tensor):
        return torch.addcmul(push, F.relu(alpha).reshape(()), pull, value=-1.0)
    return torch.sub(push, pull, alpha=check_alpha(alpha))


def add_channel_bias(maps: Tensor, bias: Tensor | None) -> Tensor:
    """``maps`` plus one bias value per channel (dimension 1 of ``(N, C, H, W)``, 0 of ``(C, H, W)``).

    >>> add_channel_bias(torch.zeros(2, 1, 1), torch.tensor([1.0, 2.0])).flatten().tolist()
    [1.0, 2.0]
    """
    if bias is None:
        return maps
    return maps + bias.view(-1, 1, 1)  # broadcasts over the batch dimension of (N, C, H, W) too


class PushPullLayer(nn.Module):
    """Base of the push-pull layer kinds: the push convolution, alpha and the branch ReLUs.

    Subclasses define ``variant`` (a short name), ``forward`` (one call of their functional
    form), :meth:`push_pull_responses` and, if their output adds anything to
    ``push - alpha * pull``, :meth:`output_from_responses`.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups: as for ``nn.Conv2d``.
        conv_bias: whether ``self.push`` has a bias.
        alpha: inhibition strength >= 0 (ignored when ``trainable_alpha``).
        trainable_alpha: learn one alpha per output channel, shape ``(1, out, 1, 1)``, initialised
            ``U(0.5 - r, 0.5 + r)`` with ``r = 1/sqrt(in * out)`` and clamped at 0 in the forward
            pass (paper Table 5).
    """

    variant: str = ""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride, padding, dilation, groups: int,
                 conv_bias: bool, alpha: float, trainable_alpha: bool,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", 1)
        out_channels = check_int(out_channels, "out_channels", 1)
        groups = check_int(groups, "groups", 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                             f"divisible by groups ({groups})")
        kernel = check_int_pair(kernel_size, "kernel_size", 1)
        stride, padding = check_int_pair(stride, "stride", 1), check_int_pair(padding, "padding", 0)
        dilation = check_int_pair(dilation, "dilation", 1)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.trainable_alpha = bool(trainable_alpha)
        # The learned push kernel, as an ordinary convolution (the authors' checkpoint layout).
        self.push = nn.Conv2d(in_channels, out_channels, kernel, stride, padding, dilation, groups,
                              bias=conv_bias, device=device, dtype=dtype)
        # Separate ReLU modules for the two branches, so Captum's guided methods can hook them.
        self.push_relu = nn.ReLU()
        self.pull_relu = nn.ReLU()
        if self.trainable_alpha:
            r = 1.0 / math.sqrt(in_channels * out_channels)
            initial = torch.empty(1, out_channels, 1, 1, device=device, dtype=dtype).uniform_(0.5 - r, 0.5 + r)
            self.alpha = nn.Parameter(initial)
        else:
            self.alpha = alpha

    def __setattr__(self, name: str, value) -> None:
        if name == "alpha":
            if isinstance(self.__dict__.get("_parameters", {}).get("alpha"), nn.Parameter) and not isinstance(
                    value, nn.Parameter):
                raise ValueError("this layer learns alpha (trainable_alpha=True): change layer.alpha.data in "
                                 "place, or build the layer with trainable_alpha=False to set a number")
            value = check_alpha(value)
        super().__setattr__(name, value)

    def branch_relus(self) -> tuple[nn.Module, nn.Module] | None:
        """``(push_relu, pull_relu)`` when someone hooks them (Captum's guided methods do), else None.

        The functional forms then run the branches through these modules (so the hooks fire)
        instead of their fused output."""
        modules = (self.push_relu, self.pull_relu)
        hooked = any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks
                     for m in modules)
        return modules if hooked else None

    def push_pull_responses(self, input: Tensor) -> PushPullResponses:  # pragma: no cover - abstract
        """The rectified push and pull response maps, separately (for visualisation)."""
        raise NotImplementedError

    def output_from_responses(self, push: Tensor, pull: Tensor, alpha: float | Tensor | None = None) -> Tensor:
        """The layer's output from its two branch responses, with the layer's alpha or another one.

        Shape:
            - push, pull: ``(N, C_out, H, W)`` or ``(C_out, H, W)``; output: the same.
        """
        return combine_responses(push, pull, self.alpha if alpha is None else alpha)

    def _alpha_repr(self) -> str:
        if self.trainable_alpha:
            return "trainable"
        return f"{float(self.alpha):g}" if not isinstance(self.alpha, Tensor) else "per-channel tensor"
