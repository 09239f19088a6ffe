"""The push-pull inhibition layer (Strisciuglio, Lopez-Antequera, Petkov, 2020).

    P(I) = ReLU(k * I) - alpha * ReLU(-k_up(h) * I)

``k`` is an ordinary learned convolution kernel (the *push* kernel). The *pull*
kernel ``-k_up(h)`` is not learned: it is ``k`` up-sampled by the scale ``h``
and negated, so it responds to the opposite contrast over a wider area. A
neuron therefore fires for its preferred pattern, but is inhibited wherever
the anti-pattern is present too, which is what noise looks like.

This file holds, in reading order:

1. ``pull_geometry`` - the authors' size and padding rules.
2. ``push_pull2d_reference`` - the formula above, line by line (the reference).
3. ``pull_preactivation`` - the same pull response computed faster.
4. ``push_pull2d`` - the fast functional form, with ``_inhibited`` - the output in fewer passes.
   (alpha >= 0 moves inside the ReLU and onto the small kernel: ``alpha * ReLU(b) = ReLU(alpha * b)``.)
5. ``PushPull2d`` - the ``nn.Module``, with its push conv in ``self.push`` so that
   the authors' checkpoints load unchanged, and the 2024 PushPull-Net variant
   behind ``variant="2024"``.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .pull_kernel import (
    interpolation_matrix,
    pull_kernel_size,
    pushpull_net_pull_kernel,
    upsample_kernel,
    upsample_kernel_reference,
)

__all__ = [
    "PullGeometry",
    "PushPullResponses",
    "pull_geometry",
    "push_pull2d_reference",
    "pull_preactivation",
    "push_pull2d",
    "PushPull2d",
    "IMPLEMENTATIONS",
]

IntPair = int | tuple[int, int]
Implementation = Literal["auto", "direct", "blur", "reference"]
IMPLEMENTATIONS: tuple[str, ...] = ("auto", "direct", "blur", "reference")


# --------------------------------------------------------------------------- checks
def _pair(value: IntPair, name: str, minimum: int) -> tuple[int, int]:
    if isinstance(value, bool) or not isinstance(value, (int, tuple, list)):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair  # type: ignore[return-value]


def _check_alpha(alpha: float | Tensor) -> None:
    if isinstance(alpha, Tensor):
        return  # a learned alpha is clamped at 0 in the forward pass
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool):
        raise TypeError(f"alpha must be a number >= 0, got {alpha!r}")
    if not math.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha (inhibition strength) must be a finite number >= 0, got {alpha}")


def _check_scale(scale: float) -> None:
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"scale (h) must be a number >= 1, got {scale!r}")
    if not math.isfinite(scale) or scale < 1:
        raise ValueError(f"scale (h, pull/push size ratio) must be a finite number >= 1, got {scale}")


def _check_input(input: Tensor, in_channels: int) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"input must be a torch.Tensor of shape (N, C, H, W), got {type(input).__name__}")
    if input.dim() != 4:
        raise ValueError(
            f"input must have shape (N, C, H, W) with C={in_channels}, got a {input.dim()}-D tensor "
            f"of shape {tuple(input.shape)}"
        )
    if input.shape[1] != in_channels:
        raise ValueError(
            f"input has {input.shape[1]} channels but the layer expects in_channels={in_channels} "
            f"(input shape {tuple(input.shape)})"
        )
    if not input.is_floating_point():
        raise TypeError(
            f"input must be a floating-point tensor, got {input.dtype}; convert images first, "
            "e.g. images.float() / 255"
        )


def _check_weight(input: Tensor, weight: Tensor, groups: int) -> None:
    if weight.dim() != 4:
        raise ValueError(f"weight must have shape (C_out, C_in / groups, kh, kw), got {tuple(weight.shape)}")
    _check_input(input, weight.shape[1] * groups)


# --------------------------------------------------------------------------- geometry
class PullGeometry(NamedTuple):
    """Size of the pull kernel and padding of the pull convolution, per spatial dimension."""

    kernel_size: tuple[int, int]
    padding: tuple[int, int]


def pull_geometry(
    kernel_size: IntPair, scale: float, padding: IntPair = 0, dilation: IntPair = 1
) -> PullGeometry:
    """The authors' rules, per dimension: pull side ``s_hat = odd(floor(s * h))`` and pull
    padding ``(s_hat // 2 - s // 2) * dilation + padding``, so that the push and pull
    responses have the same size. (The authors' code leaves dilation out of the
    padding; with dilation 1, the only value they used, both agree.)

    >>> pull_geometry(3, 2.0, padding=1)
    PullGeometry(kernel_size=(7, 7), padding=(3, 3))
    """
    _check_scale(scale)
    sizes = _pair(kernel_size, "kernel_size", 1)
    pads = _pair(padding, "padding", 0)
    dils = _pair(dilation, "dilation", 1)
    pull_sizes = tuple(pull_kernel_size(s, scale) for s in sizes)
    for s, s_hat in zip(sizes, pull_sizes):
        if s % 2 == 0 and s_hat != s:
            raise ValueError(
                f"kernel_size {kernel_size!r}: an even push kernel with scale={scale} gives an odd pull "
                f"kernel ({s_hat}) whose response cannot be aligned with the push response; use an odd "
                "kernel_size or scale=1"
            )
    pull_pads = tuple((s_hat // 2 - s // 2) * d + p for s, s_hat, d, p in zip(sizes, pull_sizes, dils, pads))
    return PullGeometry(pull_sizes, pull_pads)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- reference
def push_pull2d_reference(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    alpha: float | Tensor = 1.0,
    scale: float = 2.0,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """``ReLU(k * I) - alpha * ReLU(-k_up(h) * I)``, computed exactly as written.

    The pull kernel is rebuilt with ``F.interpolate`` on every call and convolved
    at its full size. Slow but obvious: every fast path is tested against this.
    A tensor ``alpha`` (learned, shape ``(1, out, 1, 1)``) is clamped at 0.

    Shape:
        - input: ``(N, C_in, H, W)``; weight: ``(C_out, C_in / groups, kh, kw)``
        - output: ``(N, C_out, H_out, W_out)``, as for ``F.conv2d`` with the same arguments.

    Example:
        >>> x, w = torch.rand(2, 3, 16, 16), torch.randn(8, 3, 3, 3)
        >>> push_pull2d_reference(x, w, padding=1).shape
        torch.Size([2, 8, 16, 16])
    """
    _check_alpha(alpha)
    _check_weight(input, weight, groups)
    geometry = pull_geometry(weight.shape[-2:], scale, padding, dilation)
    pull_kernel = -upsample_kernel_reference(weight, geometry.kernel_size)
    pull_bias = -bias if bias is not None else None
    push = F.relu(F.conv2d(input, weight, bias, stride, padding, dilation, groups))
    pull = F.relu(F.conv2d(input, pull_kernel, pull_bias, stride, geometry.padding, dilation, groups))
    if isinstance(alpha, Tensor):
        alpha = F.relu(alpha)
    return push - alpha * pull


# --------------------------------------------------------------------------- fast path
def pull_preactivation(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    interp_h: Tensor,
    interp_w: Tensor,
    stride: tuple[int, int],
    pull_padding: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
    implementation: Literal["direct", "blur"] = "direct",
    pull_weight: Tensor | None = None,
) -> Tensor:
    """``-k_up * I - bias``: the pull branch before its ReLU, by one of two exact routes.

    ``"direct"`` convolves with the up-sampled kernel (``pull_weight`` if given,
    else built from the interpolation matrices). ``"blur"`` uses linearity instead:
    ``k_up = A_h k A_w^T``, so the pull response is the *push* kernel applied, as
    a 1x1 convolution, to ``kh * kw`` fixed separable blurs of the input (one per
    push tap, the columns of ``A_h`` and ``A_w``). It costs one push-sized product
    plus two cheap depthwise passes instead of one ``kh_hat x kw_hat`` product.

    Shape:
        - input ``(N, C_in, H, W)``; weight ``(C_out, C_in / groups, kh, kw)``
        - interp_h ``(kh_hat, kh)``, interp_w ``(kw_hat, kw)``
        - output ``(N, C_out, H_out, W_out)``
    """
    neg_bias = -bias if bias is not None else None
    if implementation == "direct":
        if pull_weight is None:
            pull_weight = -upsample_kernel(weight, interp_h, interp_w)
        return F.conv2d(input, pull_weight, neg_bias, stride, pull_padding, dilation, groups)
    if implementation != "blur":
        raise ValueError(f"implementation must be 'direct' or 'blur', got {implementation!r}")
    channels = input.shape[1]
    kh, kw = weight.shape[-2:]
    kh_hat, kw_hat = interp_h.shape[0], interp_w.shape[0]
    # Column a of A_h is the vertical filter that feeds push tap row a (likewise for A_w).
    vertical = interp_h.t().to(input.dtype).reshape(kh, 1, kh_hat, 1).repeat(channels, 1, 1, 1)
    horizontal = interp_w.t().to(input.dtype).reshape(kw, 1, 1, kw_hat).repeat(channels * kh, 1, 1, 1)
    blurred = F.conv2d(input, vertical, None, (stride[0], 1), (pull_padding[0], 0), (dilation[0], 1), channels)
    blurred = F.conv2d(blurred, horizontal, None, (1, stride[1]), (0, pull_padding[1]), (1, dilation[1]), channels * kh)
    # blurred channel (c * kh + a) * kw + b holds input channel c under filter (a, b): the
    # same order as weight.reshape(C_out, C_in/groups * kh * kw), group by group.
    return F.conv2d(blurred, -weight.reshape(weight.shape[0], -1, 1, 1), neg_bias, 1, 0, 1, groups)


def _choose_implementation(kernel: tuple[int, int], pull: tuple[int, int]) -> Literal["direct", "same"]:
    """The route ``"auto"`` takes: ``"same"`` when the pull kernel is the push kernel (no
    second convolution at all), else ``"direct"``. The ``"blur"`` route is exact too, but
    on the 2-core CPU we measured it no faster for 3x3 kernels and alternately faster and
    slower for a 7x7 stem (benchmarks/bench_layer.py, docs/benchmarks.md), because
    depthwise convolutions run far below peak there; so it is only used when asked for."""
    return "same" if pull == kernel else "direct"


def _inhibited(
    input: Tensor,
    push_pre: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    alpha: float | Tensor,
    pull_weight: Tensor | None,
    stride: IntPair,
    pull_padding: tuple[int, int],
    dilation: IntPair,
    groups: int,
) -> Tensor:
    """The layer's output ``ReLU(a) - alpha * ReLU(b)`` (``a``, ``b``: push and pull
    pre-activations) computed as ``ReLU(a) + min(c, 0)`` with ``c = -alpha * b``.

    Since alpha >= 0, ``alpha * ReLU(b) = ReLU(alpha * b) = -min(c, 0)``, and ``c`` is the
    pull convolution with the kernel and bias scaled by ``-alpha`` (tiny tensors), so the big
    response map is never multiplied by alpha or negated, ``min(c, 0)`` runs in place, and the
    backward pass makes two elementwise passes instead of three (no ``-alpha * grad``). Same
    function as the classic form; in one benchmark run on a 2-core CPU the PP-ResNet-20 /
    ResNet-20 step ratio was 1.047 with it and 1.059 without (docs/benchmarks.md). ``pull_weight`` is the pull kernel ``-k_up``; ``None``
    means the pull kernel is the push kernel (h = 1), so ``c = alpha * a``.
    """
    if not isinstance(alpha, Tensor) and alpha == 0:
        return F.relu(push_pre)
    if isinstance(alpha, Tensor):
        alpha = F.relu(alpha)  # a learned alpha is clamped at 0
    if pull_weight is None:  # -k_up = -k: c = -alpha * (-a)
        scaled = push_pre * alpha
    else:
        per_filter = alpha.reshape(-1, 1, 1, 1) if isinstance(alpha, Tensor) else alpha
        scaled_bias = None if bias is None else bias * (alpha.reshape(-1) if isinstance(alpha, Tensor) else alpha)
        scaled = F.conv2d(input, pull_weight * -per_filter, scaled_bias, stride, pull_padding, dilation, groups)
    return torch.add(F.relu(push_pre), F.hardtanh_(scaled, -math.inf, 0.0))


def push_pull2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    alpha: float | Tensor = 1.0,
    scale: float = 2.0,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    implementation: Implementation = "auto",
) -> Tensor:
    """Functional push-pull convolution (2020 form), fast path.

    Same result as :func:`push_pull2d_reference` (to float rounding), computed
    without the ``F.interpolate`` call and with fewer passes over the output; see
    :class:`PushPull2d` for the arguments.

    Shape:
        - input: ``(N, C_in, H, W)``; weight: ``(C_out, C_in / groups, kh, kw)``
        - output: ``(N, C_out, H_out, W_out)``

    Example:
        >>> x, w = torch.rand(2, 3, 16, 16), torch.randn(8, 3, 3, 3)
        >>> y = push_pull2d(x, w, padding=1)
        >>> torch.allclose(y, push_pull2d_reference(x, w, padding=1), atol=1e-5)
        True
    """
    _check_alpha(alpha)
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    if implementation == "reference":
        return push_pull2d_reference(input, weight, bias, alpha, scale, stride, padding, dilation, groups)
    _check_weight(input, weight, groups)
    geometry = pull_geometry(weight.shape[-2:], scale, padding, dilation)
    kernel = (weight.shape[-2], weight.shape[-1])
    push_pre = F.conv2d(input, weight, bias, stride, padding, dilation, groups)
    route = _choose_implementation(kernel, geometry.kernel_size)
    if route == "same":  # h = 1 (or floor(s*h) == s): the pull kernel is the push kernel
        return _inhibited(input, push_pre, weight, bias, alpha, None, stride, geometry.padding, dilation, groups)
    interp_h = interpolation_matrix(kernel[0], geometry.kernel_size[0], weight.dtype, weight.device)
    interp_w = interpolation_matrix(kernel[1], geometry.kernel_size[1], weight.dtype, weight.device)
    if implementation != "blur":
        pull_weight = -upsample_kernel(weight, interp_h, interp_w)
        return _inhibited(input, push_pre, weight, bias, alpha, pull_weight, stride, geometry.padding, dilation, groups)
    pull_pre = pull_preactivation(
        input, weight, bias, interp_h, interp_w, _pair(stride, "stride", 1),
        geometry.padding, _pair(dilation, "dilation", 1), groups, "blur",
    )
    return _combine(F.relu(push_pre), F.relu(pull_pre), alpha)


def _combine(push: Tensor, pull: Tensor, alpha: float | Tensor) -> Tensor:
    """``push - alpha * pull`` in one pass (a learned alpha is clamped at 0)."""
    if isinstance(alpha, Tensor):
        return torch.addcmul(push, F.relu(alpha), pull, value=-1.0)
    return torch.sub(push, pull, alpha=alpha)


# --------------------------------------------------------------------------- module
class PushPullResponses(NamedTuple):
    """The two rectified branches of a push-pull layer: ``push = ReLU(k * I)`` and
    ``pull = ReLU(-k_up * I)``; the layer's output is ``push - alpha * pull``."""

    push: Tensor
    pull: Tensor


class PushPull2d(nn.Module):
    r"""Push-pull inhibition layer, a drop-in replacement for ``nn.Conv2d``.

    ``out = ReLU(k * x) - alpha * ReLU(-k_up(h) * x)`` (Strisciuglio et al., Neural
    Computing and Applications 2020). The push kernel ``k`` is the weight of the
    ordinary convolution ``self.push``; the pull kernel is derived from it (see
    :attr:`pull_weight`), so the layer has exactly the parameters of that
    convolution, plus one alpha per output channel when ``trainable_alpha=True``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias:
            as for ``nn.Conv2d`` (kernel sizes may be non-square; a side that is even
            needs ``scale=1``). With ``bias=True`` the pull branch uses ``-bias``.
        alpha: inhibition strength, a number >= 0 (the paper uses 1). Can be changed
            after construction (``layer.alpha = 0.5``).
        scale: ``h``, the size ratio of pull to push kernel, >= 1 (the paper uses 2;
            ``h=1`` uses the push kernel itself). Can be changed after construction.
        trainable_alpha: learn one alpha per output channel, shape ``(1, out, 1, 1)``,
            initialised ``U(0.5 - r, 0.5 + r)`` with ``r = 1/sqrt(in * out)`` and
            clamped at 0 by a ReLU in the forward pass (paper Table 5).
        variant: ``"2020"`` (default) the paper's layer; ``"2024"`` the PushPull-Net
            unit (Bennabhaktula et al., ICPR 2024): pull kernel of the push size made by
            min/max inversion, ``-k + max(k) + min(k)`` per filter, its response
            average-pooled (``avg_kernel_size``, stride 1) before the ReLU, and a separate
            bias added after the combination. ``scale`` is not used by that variant.
        avg_kernel_size: window of the pull average pooling of the 2024 variant (3 or 5).
        implementation: how the 2020 pull response is computed, all exact: ``"auto"``
            (default: ``"direct"``, and no second convolution at all when the pull kernel
            equals the push kernel, h=1), ``"direct"`` (convolve with the up-sampled kernel,
            cached while the weights do not change), ``"blur"`` (the push kernel as a 1x1
            convolution on fixed blurs of the input: fewer multiply-adds, but depthwise
            passes) or ``"reference"`` (the formula verbatim, rebuilding the kernel on every call).
            ``"auto"`` and ``"direct"`` compute the output as ``ReLU(a) + min(c, 0)`` with
            ``c = -alpha * b`` (see ``_inhibited``), the same function in fewer passes, unless the
            branch ReLUs are hooked (Captum's guided methods), when they run as written.

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H_out, W_out)``, the same as ``nn.Conv2d`` would give.

    Example:
        >>> layer = PushPull2d(3, 16, kernel_size=3, padding=1)
        >>> layer(torch.rand(2, 3, 32, 32)).shape
        torch.Size([2, 16, 32, 32])
        >>> layer.pull_weight.shape  # 3x3 push kernel, h=2 -> 7x7 pull kernel
        torch.Size([16, 3, 7, 7])
        >>> list(layer.state_dict())  # the authors' checkpoint layout
        ['push.weight']
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntPair,
        stride: IntPair = 1,
        padding: IntPair = 0,
        dilation: IntPair = 1,
        groups: int = 1,
        bias: bool = False,
        alpha: float = 1.0,
        scale: float = 2.0,
        trainable_alpha: bool = False,
        *,
        variant: Literal["2020", "2024"] = "2020",
        avg_kernel_size: int = 3,
        implementation: Implementation = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must both be divisible "
                f"by groups ({groups})"
            )
        if variant not in ("2020", "2024"):
            raise ValueError(f"variant must be '2020' (the paper's layer) or '2024' (PushPull-Net), got {variant!r}")
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
        _check_alpha(alpha)
        kernel = _pair(kernel_size, "kernel_size", 1)
        stride, padding, dilation = _pair(stride, "stride", 1), _pair(padding, "padding", 0), _pair(dilation, "dilation", 1)
        factory = {"device": device, "dtype": dtype}

        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.variant = variant
        self.implementation = implementation
        self.trainable_alpha = trainable_alpha
        # The learned push kernel. In the 2024 variant the bias is a separate parameter.
        self.push = nn.Conv2d(
            in_channels, out_channels, kernel, stride, padding, dilation, groups,
            bias=bias and variant == "2020", **factory,
        )
        # Separate ReLU modules for the two branches, so Captum's guided methods can hook them.
        self.push_relu = nn.ReLU()
        self.pull_relu = nn.ReLU()
        if trainable_alpha:
            r = 1.0 / math.sqrt(in_channels * out_channels)
            self.alpha = nn.Parameter(torch.empty(1, out_channels, 1, 1, **factory).uniform_(0.5 - r, 0.5 + r))
        else:
            self.alpha = float(alpha)
        if variant == "2024":
            if isinstance(avg_kernel_size, bool) or not isinstance(avg_kernel_size, int) or avg_kernel_size < 1 or avg_kernel_size % 2 == 0:
                raise ValueError(f"avg_kernel_size must be a positive odd integer (3 or 5), got {avg_kernel_size!r}")
            self.pull_pool = nn.AvgPool2d(avg_kernel_size, stride=1, padding=avg_kernel_size // 2, count_include_pad=False)
            self.bias = nn.Parameter(torch.zeros(out_channels, **factory)) if bias else None
        self._pull_cache: tuple[tuple, Tensor] | None = None
        self.scale = scale  # property: validates and builds the interpolation matrices

    # ---- hyper-parameters that a slider may change ------------------------------------
    @property
    def scale(self) -> float:
        """``h``: pull kernel side / push kernel side (>= 1). Setting it rebuilds the fixed
        interpolation matrices (non-persistent buffers) and drops the cached pull kernel."""
        return self._scale

    @scale.setter
    def scale(self, value: float) -> None:
        _check_scale(value)
        geometry = pull_geometry(self.push.kernel_size, value, self.push.padding, self.push.dilation)
        self._scale = float(value)
        self.pull_kernel_size, self.pull_padding = geometry.kernel_size, geometry.padding
        weight = self.push.weight
        for name, size, size_hat in zip(("interp_h", "interp_w"), self.push.kernel_size, geometry.kernel_size):
            matrix = interpolation_matrix(size, size_hat, weight.dtype, weight.device)
            self.register_buffer(name, matrix, persistent=False)
        self._pull_cache = None
        self._route = _choose_implementation(self.push.kernel_size, geometry.kernel_size)

    # ---- the derived pull kernel --------------------------------------------------------
    @property
    def pull_weight(self) -> Tensor:
        """The pull kernel actually convolved with the input, ``-k_up(h)`` (2020) or
        ``-k + max(k) + min(k)`` (2024), shape ``(out, in / groups, kh_hat, kw_hat)``.

        Rebuilt only when the push weights change (tracked by the parameter's version
        counter), so inference and interactive redraws reuse it; while training it is
        recomputed with gradients, which costs two tiny matrix products."""
        weight = self.push.weight
        if self.variant == "2024":
            return pushpull_net_pull_kernel(weight)
        if (torch.is_grad_enabled() and weight.requires_grad) or torch.compiler.is_compiling():
            return -upsample_kernel(weight, self.interp_h, self.interp_w)
        key = (weight._version, weight.data_ptr(), weight.dtype, weight.device, self._scale)
        if self._pull_cache is None or self._pull_cache[0] != key:
            with torch.no_grad():
                self._pull_cache = (key, -upsample_kernel(weight, self.interp_h, self.interp_w))
        return self._pull_cache[1]

    def _apply(self, fn, recurse=True):  # .to(), .cuda(), .double(): drop the cache
        self._pull_cache = None
        return super()._apply(fn, recurse)

    # ---- forward ----------------------------------------------------------------------
    def _preactivations(self, input: Tensor) -> tuple[Tensor, Tensor]:
        _check_input(input, self.in_channels)
        push = self.push
        push_pre = push(input)
        if self.variant == "2024":
            pull_pre = F.conv2d(input, self.pull_weight, None, push.stride, push.padding, push.dilation, push.groups)
            return push_pre, self.pull_pool(pull_pre)
        if self.implementation == "reference":
            pull_kernel = -upsample_kernel_reference(push.weight, self.pull_kernel_size)
            neg_bias = -push.bias if push.bias is not None else None
            pull_pre = F.conv2d(input, pull_kernel, neg_bias, push.stride, self.pull_padding, push.dilation, push.groups)
            return push_pre, pull_pre
        route = self._route if self.implementation == "auto" or self._route == "same" else self.implementation
        if route == "same":  # the pull kernel is the push kernel: -(k * x + b) = -push_pre
            return push_pre, -push_pre
        pull_pre = pull_preactivation(
            input, push.weight, push.bias, self.interp_h, self.interp_w, push.stride, self.pull_padding,
            push.dilation, push.groups, route, self.pull_weight if route == "direct" else None,
        )
        return push_pre, pull_pre

    def push_pull_responses(self, input: Tensor) -> PushPullResponses:
        """The rectified push and pull response maps, separately (for visualisation).

        Shape:
            - input ``(N, C_in, H, W)``; each response ``(N, C_out, H_out, W_out)``.
        """
        push_pre, pull_pre = self._preactivations(input)
        return PushPullResponses(self.push_relu(push_pre), self.pull_relu(pull_pre))

    def _branches_hooked(self) -> bool:
        """Whether someone hooks the branch ReLUs (Captum's guided methods do); the forward
        pass then runs the branches through them instead of the fused form."""
        return any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks
                   for m in (self.push_relu, self.pull_relu))

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(self.alpha, Tensor):
            _check_alpha(self.alpha)
        route = self._route if self.implementation == "auto" or self._route == "same" else self.implementation
        fused = self.variant == "2020" and self.implementation != "reference" and route in ("same", "direct")
        if fused and not self._branches_hooked():
            _check_input(input, self.in_channels)
            push = self.push
            return _inhibited(input, push(input), push.weight, push.bias, self.alpha,
                              None if route == "same" else self.pull_weight, push.stride, self.pull_padding,
                              push.dilation, push.groups)
        push, pull = self.push_pull_responses(input)
        out = _combine(push, pull, self.alpha)
        if self.variant == "2024" and self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1)
        return out

    def extra_repr(self) -> str:
        alpha = "trainable" if self.trainable_alpha else f"{self.alpha:g}"
        text = f"variant={self.variant}, alpha={alpha}"
        if self.variant == "2020":
            text += f", scale={self._scale:g}, pull_kernel_size={self.pull_kernel_size}, implementation={self.implementation}"
        return text
