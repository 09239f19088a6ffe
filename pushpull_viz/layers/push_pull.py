"""The push-pull inhibition layer (Strisciuglio, Lopez-Antequera, Petkov, 2020).

    P(I) = ReLU(k * I) - alpha * ReLU(-k_up(h) * I)

``k`` is an ordinary learned convolution kernel (the *push* kernel). The *pull*
kernel ``-k_up(h)`` is not learned: it is ``k`` up-sampled by the scale ``h``
and negated, so it responds to the opposite contrast over a wider area. A
neuron therefore fires for its preferred pattern, but is inhibited wherever
the anti-pattern is present too, which is what noise looks like.

This file holds, in reading order:

1. ``push_pull2d_reference`` - the formula above, line by line (the reference).
2. ``select_route`` - the one place that picks how the pull response is computed.
3. ``push_pull_responses`` - the two rectified branch maps, by that route.
4. ``push_pull2d`` - the layer's output, fast: the functional form.
5. ``PushPull2d`` - the ``nn.Module``, whose ``forward`` is one call of ``push_pull2d``,
   with its push conv in ``self.push`` so that the authors' checkpoints load unchanged.

The pull kernel's size rule and the up-sampling itself are in ``pull_kernel.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from ..checks import check_alpha, check_conv_input, check_int_pair, check_scale
from .base import DEFAULT_ALPHA, PushPullLayer, PushPullResponses, combine_responses
from .pull_kernel import interpolation_matrix, pull_geometry, upsample_kernel, upsample_kernel_reference

__all__ = [
    "DEFAULT_SCALE",
    "IMPLEMENTATIONS",
    "PushPull2d",
    "push_pull2d",
    "push_pull2d_reference",
    "push_pull_responses",
    "select_route",
]

#: The paper's scale h (pull kernel side / push kernel side; section 3: h = 2).
DEFAULT_SCALE = 2.0

IntPair = int | tuple[int, int]
Implementation = Literal["auto", "direct", "blur", "reference"]
Route = Literal["same", "direct", "blur", "reference"]
IMPLEMENTATIONS: tuple[str, ...] = ("auto", "direct", "blur", "reference")
Relu = Callable[[Tensor], Tensor]

#: How many dense multiply-adds one multiply-add of a depthwise convolution costs, for the
#: route rule of :func:`select_route` (channels_last inputs). Measured, not derived: on the
#: project's 2-core CPU (oneDNN) this value puts the rule on the side of every channels_last
#: measurement in docs/benchmarks.md ("Which route").
DEPTHWISE_COST = 10.0


# --------------------------------------------------------------------------- 1. reference
def push_pull2d_reference(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    alpha: float | Tensor = DEFAULT_ALPHA,
    scale: float = DEFAULT_SCALE,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """``ReLU(k * I) - alpha * ReLU(-k_up(h) * I)``, computed exactly as written.

    The pull kernel is rebuilt with ``F.interpolate`` on every call and convolved
    at its full size. Slow but obvious: every fast route is tested against this.
    A tensor ``alpha`` (learned, shape ``(1, out, 1, 1)``) is clamped at 0.

    Shape:
        - input: ``(N, C_in, H, W)``; weight: ``(C_out, C_in / groups, kh, kw)``
        - output: ``(N, C_out, H_out, W_out)``, as for ``F.conv2d`` with the same arguments.

    Example:
        >>> x, w = torch.rand(2, 3, 16, 16), torch.randn(8, 3, 3, 3)
        >>> push_pull2d_reference(x, w, padding=1).shape
        torch.Size([2, 8, 16, 16])
    """
    alpha = check_alpha(alpha)
    check_conv_input(input, weight, groups)
    geometry = pull_geometry(weight.shape[-2:], scale, padding, dilation)
    pull_kernel = -upsample_kernel_reference(weight, geometry.kernel_size)
    pull_bias = -bias if bias is not None else None
    push = F.relu(F.conv2d(input, weight, bias, stride, padding, dilation, groups))
    pull = F.relu(F.conv2d(input, pull_kernel, pull_bias, stride, geometry.padding, dilation, groups))
    if isinstance(alpha, Tensor):
        alpha = F.relu(alpha)
    return push - alpha * pull


# --------------------------------------------------------------------------- 2. the route
def select_route(weight_shape: tuple[int, ...], pull_kernel_size: tuple[int, int], groups: int = 1,
                 implementation: Implementation = "auto", channels_last: bool = False) -> Route:
    """How the pull response is computed; all routes give the same function.

    - ``"same"``: the pull kernel is the push kernel (``h = 1``, or ``floor(s * h) == s``), so
      the pull pre-activation is minus the push one: no second convolution at all. Taken
      whatever was asked for, except ``"reference"``.
    - ``"direct"``: convolve with the up-sampled kernel ``-k_up``.
    - ``"blur"``: the push kernel as a 1x1 convolution on ``kh * kw`` fixed separable blurs of
      the input (:func:`_pull_preactivation`): fewer multiply-adds for large kernels, but two
      depthwise passes.
    - ``"reference"``: the formula verbatim (:func:`push_pull2d_reference`).

    ``"auto"`` takes ``"blur"`` only for a channels_last input whose multiply-adds per output pixel
    are fewer that way: ``C_out * C_in/g * kh * kw`` plus the depthwise blurs ``C_in * kh * (kh_hat +
    kw * kw_hat)`` weighted by :data:`DEPTHWISE_COST`, against ``C_out * C_in/g * kh_hat * kw_hat`` for
    direct; else ``"direct"``. Measured on the project's CPU (docs/benchmarks.md, "Which route"): in
    channels_last this picks the faster route for a ResNet stem (3->64, 7x7/2, pull 15x15: blur) and
    a 64->64 3x3 layer (blur), the CIFAR (3->16, 3x3) and LeNet (1->6, 5x5) first layers (direct);
    in NCHW the depthwise passes are slow and direct was faster everywhere except the stem's
    training step.

    Args:
        weight_shape: ``(C_out, C_in / groups, kh, kw)``.
        pull_kernel_size: ``(kh_hat, kw_hat)`` (:func:`~pushpull_viz.layers.pull_geometry`).
        groups: as for ``nn.Conv2d``.
        implementation: ``"auto"`` or a route to force.
        channels_last: whether the input is in channels_last memory format.

    Example:
        >>> select_route((16, 3, 3, 3), (7, 7), channels_last=True), select_route((64, 3, 7, 7), (15, 15))
        ('direct', 'direct')
        >>> select_route((64, 3, 7, 7), (15, 15), channels_last=True)
        'blur'
    """
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    if implementation == "reference":
        return "reference"
    out_channels, in_per_group, kh, kw = weight_shape
    kh_hat, kw_hat = pull_kernel_size
    if (kh_hat, kw_hat) == (kh, kw):
        return "same"
    if implementation != "auto":
        return implementation  # type: ignore[return-value]
    if not channels_last:
        return "direct"
    direct = out_channels * in_per_group * kh_hat * kw_hat
    blur = out_channels * in_per_group * kh * kw + DEPTHWISE_COST * in_per_group * groups * kh * (kh_hat + kw * kw_hat)
    return "blur" if blur < direct else "direct"


def _is_channels_last(input: Tensor) -> bool:
    """channels_last, and not also plain contiguous (one channel, or 1x1 maps, are both)."""
    return input.is_contiguous(memory_format=torch.channels_last) and not input.is_contiguous()


# --------------------------------------------------------------------------- 3. responses
def _interpolation(weight: Tensor, pull_size: tuple[int, int],
                   interpolation: tuple[Tensor, Tensor] | None) -> tuple[Tensor, Tensor]:
    """The matrices ``A_h``, ``A_w`` that up-sample the push kernel (given, or built)."""
    kh, kw = weight.shape[-2:]
    if interpolation is None:
        return (interpolation_matrix(kh, pull_size[0], weight.dtype, weight.device),
                interpolation_matrix(kw, pull_size[1], weight.dtype, weight.device))
    interp_h, interp_w = interpolation
    if tuple(interp_h.shape) != (pull_size[0], kh) or tuple(interp_w.shape) != (pull_size[1], kw):
        raise ValueError(f"interpolation matrices of shapes {tuple(interp_h.shape)}, {tuple(interp_w.shape)} do not "
                         f"up-sample a {kh}x{kw} kernel to {pull_size[0]}x{pull_size[1]}")
    return interp_h, interp_w


def _pull_preactivation(input: Tensor, weight: Tensor, bias: Tensor | None, route: Route,
                        interp: tuple[Tensor, Tensor] | None, pull_size: tuple[int, int],
                        stride: tuple[int, int], pull_padding: tuple[int, int], dilation: tuple[int, int],
                        groups: int) -> Tensor:
    """``-k_up * I - bias``: the pull branch before its ReLU, by one route.

    ``"blur"`` uses linearity: ``k_up = A_h k A_w^T``, so the pull response is the *push*
    kernel applied, as a 1x1 convolution, to ``kh * kw`` fixed separable blurs of the input
    (one per push tap, the columns of ``A_h`` and ``A_w``). It costs one push-sized product
    plus two depthwise passes instead of one ``kh_hat x kw_hat`` product.
    """
    neg_bias = -bias if bias is not None else None
    if route == "reference":
        kernel = -upsample_kernel_reference(weight, pull_size)
        return F.conv2d(input, kernel, neg_bias, stride, pull_padding, dilation, groups)
    interp_h, interp_w = _interpolation(weight, pull_size, interp)
    if route == "direct":
        return F.conv2d(input, -upsample_kernel(weight, interp_h, interp_w), neg_bias, stride, pull_padding,
                        dilation, groups)
    channels = input.shape[1]
    kh, kw = weight.shape[-2:]
    kh_hat, kw_hat = pull_size
    # Column a of A_h is the vertical filter that feeds push tap row a (likewise for A_w).
    vertical = interp_h.t().to(input.dtype).reshape(kh, 1, kh_hat, 1).repeat(channels, 1, 1, 1)
    horizontal = interp_w.t().to(input.dtype).reshape(kw, 1, 1, kw_hat).repeat(channels * kh, 1, 1, 1)
    blurred = F.conv2d(input, vertical, None, (stride[0], 1), (pull_padding[0], 0), (dilation[0], 1), channels)
    blurred = F.conv2d(blurred, horizontal, None, (1, stride[1]), (0, pull_padding[1]), (1, dilation[1]),
                       channels * kh)
    # blurred channel (c * kh + a) * kw + b holds input channel c under filter (a, b): the
    # same order as weight.reshape(C_out, C_in/groups * kh * kw), group by group.
    return F.conv2d(blurred, -weight.reshape(weight.shape[0], -1, 1, 1), neg_bias, 1, 0, 1, groups)


def push_pull_responses(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    scale: float = DEFAULT_SCALE,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    implementation: Implementation = "auto",
    *,
    interpolation: tuple[Tensor, Tensor] | None = None,
    relus: tuple[Relu, Relu] | None = None,
) -> PushPullResponses:
    """The two rectified branches ``push = ReLU(k * I)`` and ``pull = ReLU(-k_up(h) * I)``.

    The layer's output is ``push - alpha * pull`` (:func:`~pushpull_viz.layers.combine_responses`),
    so figures and sliders get both maps here once and combine them for any alpha.

    Args:
        input, weight, bias, scale, stride, padding, dilation, groups, implementation: as for
            :func:`push_pull2d`.
        interpolation: the up-sampling matrices ``(A_h, A_w)`` if already built (a layer's buffers).
        relus: the two rectifiers ``(push_relu, pull_relu)`` (default ``F.relu``); a layer passes its
            ReLU modules so that hooks on them fire.

    Shape:
        - input: ``(N, C_in, H, W)``; weight: ``(C_out, C_in / groups, kh, kw)``
        - push, pull: ``(N, C_out, H_out, W_out)``

    Example:
        >>> x, w = torch.rand(1, 3, 16, 16), torch.randn(8, 3, 3, 3)
        >>> push, pull = push_pull_responses(x, w, padding=1)
        >>> torch.allclose(push - pull, push_pull2d_reference(x, w, padding=1), atol=1e-5)
        True
    """
    check_conv_input(input, weight, groups)
    geometry = pull_geometry(weight.shape[-2:], scale, padding, dilation)
    stride, dilation = check_int_pair(stride, "stride", 1), check_int_pair(dilation, "dilation", 1)
    route = select_route(tuple(weight.shape), geometry.kernel_size, groups, implementation, _is_channels_last(input))
    push_relu, pull_relu = relus or (F.relu, F.relu)
    push_pre = F.conv2d(input, weight, bias, stride, padding, dilation, groups)
    if route == "same":  # the pull kernel is the push kernel: -(k * x + b) = -push_pre
        pull_pre = -push_pre
    else:
        pull_pre = _pull_preactivation(input, weight, bias, route, interpolation, geometry.kernel_size, stride,
                                       geometry.padding, dilation, groups)
    return PushPullResponses(push_relu(push_pre), pull_relu(pull_pre))


# --------------------------------------------------------------------------- 4. the output
def _inhibited(input: Tensor, weight: Tensor, bias: Tensor | None, alpha: float | Tensor, route: Route,
               interp: tuple[Tensor, Tensor] | None, pull_size: tuple[int, int], stride: IntPair,
               padding: IntPair, pull_padding: tuple[int, int], dilation: IntPair, groups: int) -> Tensor:
    """The output ``ReLU(a) - alpha * ReLU(b)`` (``a``, ``b``: push and pull pre-activations)
    computed as ``ReLU(a) + min(c, 0)`` with ``c = -alpha * b``, for the routes ``same`` and ``direct``.

    Since alpha >= 0, ``alpha * ReLU(b) = ReLU(alpha * b) = -min(c, 0)``, and ``c`` is the pull
    convolution with the kernel and bias scaled by ``-alpha`` (tiny tensors), so the big response
    map is never multiplied by alpha or negated, ``min(c, 0)`` runs in place, and the backward pass
    makes two elementwise passes instead of three. The same function as the formula.
    """
    push_pre = F.conv2d(input, weight, bias, stride, padding, dilation, groups)
    if not isinstance(alpha, Tensor) and alpha == 0:
        return F.relu(push_pre)
    if isinstance(alpha, Tensor):
        alpha = F.relu(alpha)  # a learned alpha is clamped at 0
    if route == "same":  # -k_up = -k: c = -alpha * (-a)
        scaled = push_pre * (alpha.reshape(-1, 1, 1) if isinstance(alpha, Tensor) else alpha)
    else:
        per_filter = alpha.reshape(-1, 1, 1, 1) if isinstance(alpha, Tensor) else alpha
        scaled_bias = None if bias is None else bias * (alpha.reshape(-1) if isinstance(alpha, Tensor) else alpha)
        interp_h, interp_w = _interpolation(weight, pull_size, interp)
        pull_kernel = upsample_kernel(weight, interp_h, interp_w) * per_filter  # -alpha * (-k_up)
        scaled = F.conv2d(input, pull_kernel, scaled_bias, stride, pull_padding, dilation, groups)
    return torch.add(F.relu(push_pre), F.hardtanh_(scaled, -math.inf, 0.0))


def push_pull2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    alpha: float | Tensor = DEFAULT_ALPHA,
    scale: float = DEFAULT_SCALE,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    implementation: Implementation = "auto",
    *,
    interpolation: tuple[Tensor, Tensor] | None = None,
    relus: tuple[Relu, Relu] | None = None,
) -> Tensor:
    """Functional push-pull convolution (the paper's layer): ``ReLU(k * I) - alpha * ReLU(-k_up(h) * I)``.

    The same result as :func:`push_pull2d_reference` (to float rounding), computed by the route
    :func:`select_route` picks, without ``F.interpolate`` and, unless ``relus`` are given, with the
    fused output of ``_inhibited`` (one elementwise pass less).

    Args:
        input: images or feature maps ``(N, C_in, H, W)``, floating point.
        weight: the push kernel ``k``, ``(C_out, C_in / groups, kh, kw)``.
        bias: ``(C_out,)`` or None; the pull branch uses ``-bias``.
        alpha: inhibition strength, a number >= 0, or a learned per-channel tensor (clamped at 0).
        scale: ``h`` >= 1, pull kernel side / push kernel side (``odd(floor(s * h))``).
        stride, padding, dilation, groups: as for ``F.conv2d``.
        implementation: ``"auto"`` (default), ``"direct"``, ``"blur"`` or ``"reference"``
            (:func:`select_route`).
        interpolation: the up-sampling matrices ``(A_h, A_w)`` if already built (a layer's buffers).
        relus: ``(push_relu, pull_relu)`` modules to run the branches through, so that hooks on
            them fire (Captum's guided methods); the output is then combined as written.

    Shape:
        - input: ``(N, C_in, H, W)``; weight: ``(C_out, C_in / groups, kh, kw)``
        - output: ``(N, C_out, H_out, W_out)``, as for ``F.conv2d`` with the same arguments.

    Example:
        >>> x, w = torch.rand(2, 3, 16, 16), torch.randn(8, 3, 3, 3)
        >>> y = push_pull2d(x, w, padding=1)
        >>> torch.allclose(y, push_pull2d_reference(x, w, padding=1), atol=1e-5)
        True
    """
    alpha = check_alpha(alpha)
    scale = check_scale(scale)
    check_conv_input(input, weight, groups)
    geometry = pull_geometry(weight.shape[-2:], scale, padding, dilation)
    route = select_route(tuple(weight.shape), geometry.kernel_size, groups, implementation, _is_channels_last(input))
    if relus is None and route == "reference":
        return push_pull2d_reference(input, weight, bias, alpha, scale, stride, padding, dilation, groups)
    if relus is None and route in ("same", "direct"):
        return _inhibited(input, weight, bias, alpha, route, interpolation, geometry.kernel_size, stride, padding,
                          geometry.padding, dilation, groups)
    push, pull = push_pull_responses(input, weight, bias, scale, stride, padding, dilation, groups, implementation,
                                     interpolation=interpolation, relus=relus)
    return combine_responses(push, pull, alpha)


# --------------------------------------------------------------------------- 5. the module
class PushPull2d(PushPullLayer):
    r"""Push-pull inhibition layer, a drop-in replacement for ``nn.Conv2d``.

    ``out = ReLU(k * x) - alpha * ReLU(-k_up(h) * x)`` (Strisciuglio et al., Neural
    Computing and Applications 2020). The push kernel ``k`` is the weight of the
    ordinary convolution ``self.push``; the pull kernel is derived from it on every call
    (see :attr:`pull_weight`), so the layer has exactly the parameters of that
    convolution, plus one alpha per output channel when ``trainable_alpha=True``, and
    any change to the weights shows in the next output.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias:
            as for ``nn.Conv2d`` (kernel sizes may be non-square; a side that is even
            needs ``scale=1``). With ``bias=True`` the pull branch uses ``-bias``.
        alpha: inhibition strength, a number >= 0 (default :data:`~pushpull_viz.layers.DEFAULT_ALPHA`,
            the paper's 1). Can be changed after construction (``layer.alpha = 0.5``).
        scale: ``h``, the size ratio of pull to push kernel, >= 1 (default :data:`DEFAULT_SCALE`,
            the paper's 2; ``h=1`` uses the push kernel itself). Can be changed after construction.
        trainable_alpha: learn one alpha per output channel (paper Table 5), see
            :class:`~pushpull_viz.layers.PushPullLayer`.
        implementation: how the pull response is computed, all exact: ``"auto"`` (default),
            ``"direct"``, ``"blur"`` or ``"reference"``; see :func:`select_route`.

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

    variant = "2020"

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
        alpha: float = DEFAULT_ALPHA,
        scale: float = DEFAULT_SCALE,
        trainable_alpha: bool = False,
        *,
        implementation: Implementation = "auto",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, alpha,
                         trainable_alpha, device, dtype)
        self.implementation = implementation
        self.scale = scale  # property: validates and builds the interpolation matrices

    @property
    def scale(self) -> float:
        """``h``: pull kernel side / push kernel side (>= 1). Setting it rebuilds the fixed
        interpolation matrices ``interp_h``, ``interp_w`` (non-persistent buffers)."""
        return self._scale

    @scale.setter
    def scale(self, value: float) -> None:
        geometry = pull_geometry(self.push.kernel_size, value, self.push.padding, self.push.dilation)
        self._scale = check_scale(value)
        self.pull_kernel_size, self.pull_padding = geometry.kernel_size, geometry.padding
        weight = self.push.weight
        for name, size, size_hat in zip(("interp_h", "interp_w"), self.push.kernel_size, geometry.kernel_size,
                                        strict=True):
            self.register_buffer(name, interpolation_matrix(size, size_hat, weight.dtype, weight.device),
                                 persistent=False)

    @property
    def pull_weight(self) -> Tensor:
        """The pull kernel convolved with the input, ``-k_up(h)``, shape ``(out, in / groups, kh_hat, kw_hat)``.

        Derived from the current push weights on every access (two small matrix products), so
        it can never be stale, whatever changed the weights."""
        return -upsample_kernel(self.push.weight, self.interp_h, self.interp_w)

    def forward(self, input: Tensor) -> Tensor:
        push = self.push
        return push_pull2d(input, push.weight, push.bias, self.alpha, self._scale, push.stride, push.padding,
                           push.dilation, push.groups, self.implementation,
                           interpolation=(self.interp_h, self.interp_w), relus=self.branch_relus())

    def push_pull_responses(self, input: Tensor, scale: float | None = None) -> PushPullResponses:
        """The rectified push and pull response maps, separately (for visualisation), at the
        layer's scale or at another ``scale`` (the layer is not changed).

        Shape:
            - input ``(N, C_in, H, W)``; each response ``(N, C_out, H_out, W_out)``.
        """
        push = self.push
        own = scale is None or check_scale(scale) == self._scale
        return push_pull_responses(input, push.weight, push.bias, self._scale if own else scale, push.stride,
                                   push.padding, push.dilation, push.groups, self.implementation,
                                   interpolation=(self.interp_h, self.interp_w) if own else None,
                                   relus=(self.push_relu, self.pull_relu))

    def extra_repr(self) -> str:
        return (f"alpha={self._alpha_repr()}, scale={self._scale:g}, pull_kernel_size={self.pull_kernel_size}, "
                f"implementation={self.implementation}")
