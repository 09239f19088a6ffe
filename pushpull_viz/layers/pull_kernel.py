"""How the pull (inhibitory) kernel is derived from the push kernel.

The 2020 layer (Strisciuglio et al.) never learns a pull kernel. It takes each
``(out, in)`` slice of the learned push kernel, up-samples it bilinearly
(``align_corners=True``) to a larger odd size and negates it. Bilinear
up-sampling is separable and linear, so for a push kernel ``W`` of size
``kh x kw`` the up-sampled kernel is ``A_h @ W @ A_w.T`` with fixed
interpolation matrices ``A_h`` (``kh_hat x kh``) and ``A_w`` (``kw_hat x kw``).
Everything the layer needs follows from that one identity.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..checks import check_int_pair, check_scale

__all__ = [
    "MAX_PULL_KERNEL_SIZE",
    "PullGeometry",
    "pull_geometry",
    "pull_kernel_size",
    "interpolation_matrix",
    "upsample_kernel",
    "upsample_kernel_reference",
    "pushpull_net_pull_kernel",
]


def pull_kernel_size(kernel_size: int, scale: float) -> int:
    """Side of the pull kernel for a push kernel side ``kernel_size`` and scale ``h``.

    The authors' rule: ``floor(kernel_size * scale)``, plus one if that is even,
    so the pull kernel is always odd and centred. ``scale == 1`` keeps the push
    size (the pull kernel is then the push kernel itself).

    >>> pull_kernel_size(3, 2.0), pull_kernel_size(5, 2.0), pull_kernel_size(3, 1.5)
    (7, 11, 5)
    """
    if kernel_size < 1:
        raise ValueError(f"kernel_size must be a positive integer, got {kernel_size}")
    check_scale(scale)
    if scale == 1.0:
        return kernel_size
    size = math.floor(kernel_size * scale)
    return size + 1 if size % 2 == 0 else size


#: The largest pull kernel side the layer builds (about 8x a 31x31 push kernel); a larger one
#: is refused at construction instead of trying to allocate it (``scale=1e6`` would ask for TBs).
MAX_PULL_KERNEL_SIZE = 255


class PullGeometry(NamedTuple):
    """Size of the pull kernel and padding of the pull convolution, per spatial dimension."""

    kernel_size: tuple[int, int]
    padding: tuple[int, int]


def pull_geometry(kernel_size, scale: float, padding=0, dilation=1) -> PullGeometry:
    """The authors' rules, per dimension: pull side ``s_hat = odd(floor(s * h))`` and pull
    padding ``(s_hat // 2 - s // 2) * dilation + padding``, so that the push and pull
    responses have the same size. (The authors' code leaves dilation out of the
    padding; with dilation 1, the only value they used, both agree.)

    Args:
        kernel_size, padding, dilation: an int or a pair, as for ``nn.Conv2d``.
        scale: ``h`` >= 1; the pull side may not exceed :data:`MAX_PULL_KERNEL_SIZE`.

    >>> pull_geometry(3, 2.0, padding=1)
    PullGeometry(kernel_size=(7, 7), padding=(3, 3))
    """
    if torch.compiler.is_compiling():  # traced once per graph anyway; dynamo warns about lru_cache wrappers
        return _pull_geometry.__wrapped__(kernel_size, scale, padding, dilation)
    key = tuple(tuple(v) if isinstance(v, list) else v for v in (kernel_size, scale, padding, dilation))
    try:
        return _pull_geometry(*key)  # every forward pass asks: the answer depends on these four only
    except TypeError as error:
        if "unhashable" not in str(error):
            raise
        return _pull_geometry.__wrapped__(kernel_size, scale, padding, dilation)


@functools.lru_cache(maxsize=256)
def _pull_geometry(kernel_size, scale: float, padding=0, dilation=1) -> PullGeometry:
    scale = check_scale(scale)
    sizes = check_int_pair(kernel_size, "kernel_size", 1)
    pads = check_int_pair(padding, "padding", 0)
    dils = check_int_pair(dilation, "dilation", 1)
    if max(sizes) * scale >= MAX_PULL_KERNEL_SIZE + 1:
        raise ValueError(f"scale={scale:g} with kernel_size {kernel_size!r} asks for a pull kernel of side "
                         f"{math.floor(max(sizes) * scale)}; the largest built is {MAX_PULL_KERNEL_SIZE} "
                         f"(use scale <= {MAX_PULL_KERNEL_SIZE / max(sizes):.3g})")
    pull_sizes = tuple(pull_kernel_size(s, scale) for s in sizes)
    for s, s_hat in zip(sizes, pull_sizes, strict=True):
        if s % 2 == 0 and s_hat != s:
            raise ValueError(
                f"kernel_size {kernel_size!r}: an even push kernel with scale={scale:g} gives an odd pull "
                f"kernel ({s_hat}) whose response cannot be aligned with the push response; use an odd "
                "kernel_size or scale=1"
            )
    pull_pads = tuple((s_hat // 2 - s // 2) * d + p for s, s_hat, d, p in zip(sizes, pull_sizes, dils, pads,
                                                                              strict=True))
    return PullGeometry(pull_sizes, pull_pads)  # type: ignore[arg-type]


def interpolation_matrix(
    size_in: int,
    size_out: int,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """1-D bilinear (``align_corners=True``) interpolation as a ``(size_out, size_in)`` matrix.

    Row ``u`` holds the weights with which output sample ``u`` mixes the
    input samples: output position ``u`` sits at input coordinate
    ``u * (size_in - 1) / (size_out - 1)`` and takes the tent weights
    ``max(0, 1 - |coord - a|)`` of the input samples ``a``.

    >>> interpolation_matrix(3, 5)
    tensor([[1.0000, 0.0000, 0.0000],
            [0.5000, 0.5000, 0.0000],
            [0.0000, 1.0000, 0.0000],
            [0.0000, 0.5000, 0.5000],
            [0.0000, 0.0000, 1.0000]])
    """
    if size_out == size_in:
        return torch.eye(size_in, dtype=dtype, device=device)
    if size_in == 1 or size_out == 1:
        # align_corners=True with a single sample: every output copies input 0.
        matrix = torch.zeros(size_out, size_in, dtype=torch.float64)
        matrix[:, 0] = 1.0
        return matrix.to(dtype=dtype, device=device)
    coords = torch.arange(size_out, dtype=torch.float64) * (size_in - 1) / (size_out - 1)
    taps = torch.arange(size_in, dtype=torch.float64)
    matrix = (1.0 - (coords[:, None] - taps[None, :]).abs()).clamp(min=0.0)
    return matrix.to(dtype=dtype, device=device)


def upsample_kernel(weight: Tensor, interp_h: Tensor, interp_w: Tensor) -> Tensor:
    """Up-sample every 2-D slice of ``weight`` with fixed interpolation matrices.

    Equal to ``F.interpolate(weight, size, mode="bilinear", align_corners=True)``
    but written as two small matrix products, so it is cheap, differentiable,
    works for non-square kernels and compiles without graph breaks.

    Shape:
        - weight: ``(out, in, kh, kw)``
        - interp_h: ``(kh_hat, kh)``, interp_w: ``(kw_hat, kw)``
        - output: ``(out, in, kh_hat, kw_hat)``
    """
    interp_h = interp_h.to(weight.dtype)
    interp_w = interp_w.to(weight.dtype)
    return interp_h @ weight @ interp_w.transpose(0, 1)


def upsample_kernel_reference(weight: Tensor, size: tuple[int, int]) -> Tensor:
    """The authors' own step, kept verbatim for the reference path: bilinear
    ``F.interpolate`` with ``align_corners=True`` on the ``(out, in, kh, kw)`` kernel."""
    if tuple(weight.shape[-2:]) == tuple(size):
        return weight
    return F.interpolate(weight, size=size, mode="bilinear", align_corners=True)


def pushpull_net_pull_kernel(weight: Tensor) -> Tensor:
    """Pull kernel of the 2024 PushPull-Net variant (Bennabhaktula et al., ICPR 2024).

    Same size as the push kernel, obtained by a min/max inversion per output
    filter: ``pull = -W + max(W) + min(W)`` with max and min over ``(in, kh, kw)``,
    so the largest push weight becomes the smallest pull weight and vice versa.

    Shape:
        - weight: ``(out, in, kh, kw)``; output: the same.
    """
    flat = weight.flatten(1)
    extremes = flat.amax(dim=1) + flat.amin(dim=1)
    return -weight + extremes.view(-1, 1, 1, 1)
