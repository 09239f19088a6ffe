"""CIFAR-10-C's blur corruptions in batched torch: gaussian, glass, defocus, motion and zoom blur.

Same conventions as :mod:`.cifar_noise`; differences from the reference script are stated per
function.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .filters import clipped_zoom, gaussian_filter, motion_blur_line

__all__ = ["defocus_blur", "gaussian_blur", "glass_blur", "motion_blur", "zoom_blur"]


def gaussian_blur(x: Tensor, sigma: float, generator=None) -> Tensor:
    """Per-channel Gaussian blur, truncated at 4 sigma, edges repeated (scikit-image's
    ``gaussian`` with its default ``mode="nearest"``)."""
    return gaussian_filter(x, sigma).clamp(0, 1)


def _truncate_to_8bit(x: Tensor) -> Tensor:
    return torch.floor(x.clamp(0, 1) * 255 + 1e-3) / 255


def glass_blur(x: Tensor, level: tuple, generator=None) -> Tensor:
    """Gaussian blur, local pixel shuffling, Gaussian blur again.

    ``level = (sigma, max_delta, iterations)``. As in the reference script: the first blur is
    truncated to 8 bits; then, in each iteration, every pixel at rows and columns
    ``max_delta + 1 .. size - max_delta`` takes the value of its neighbour at offsets drawn from
    ``randint(-max_delta, max_delta)`` (numpy's exclusive upper bound: -1 or 0 for the published
    ``max_delta = 1``). The script's "swap" on numpy views is in effect this copy, and because it
    visits pixels bottom-right to top-left while reading only up and left, every pixel reads an
    unchanged one: the loop is one parallel gather, as here. Only ``max_delta = 1`` (the
    published value) has that property, so other values are rejected.
    """
    sigma, delta, iterations = level
    if delta != 1:
        raise ValueError(f"glass_blur supports max_delta = 1 (the published value), got {delta}")
    n, c, h, w = x.shape
    y = _truncate_to_8bit(gaussian_filter(x, sigma))
    rows = torch.arange(delta + 1, h - delta + 1, device=x.device)
    cols = torch.arange(delta + 1, w - delta + 1, device=x.device)
    for _ in range(iterations):
        shift = torch.randint(-delta, delta, (2, n, rows.numel(), cols.numel()), generator=generator, device=x.device)
        source = (rows[None, :, None] + shift[0]) * w + (cols[None, None, :] + shift[1])  # (N, h', w')
        moved = y.flatten(2).gather(2, source.reshape(n, 1, -1).expand(n, c, -1))
        y = y.clone()
        y[:, :, delta + 1:h - delta + 1, delta + 1:w - delta + 1] = moved.reshape(n, c, rows.numel(), cols.numel())
    return gaussian_filter(y, sigma).clamp(0, 1)


def _defocus_kernel(radius: float, alias_sigma: float, device, dtype) -> Tensor:
    size = 8 if radius <= 8 else math.ceil(radius)
    t = torch.arange(-size, size + 1, device=device, dtype=torch.float64)
    disk = ((t[:, None] ** 2 + t[None, :] ** 2) <= radius**2).double()
    disk /= disk.sum()
    g = torch.exp(-0.5 * (torch.arange(-1.0, 2.0, dtype=torch.float64, device=device) / alias_sigma) ** 2)
    g /= g.sum()  # 3x3 Gaussian (the reference blurs the disk with a 3x3 cv2.GaussianBlur)
    blurred = F.conv2d(F.pad(disk[None, None], (1, 1, 1, 1), mode="reflect"), (g[:, None] * g[None, :])[None, None])
    nonzero = blurred[0, 0].abs().sum(0).nonzero().flatten()  # crop the all-zero border of the 17x17 support
    lo, hi = int(nonzero.min()), int(nonzero.max())
    lo, hi = min(lo, 2 * size - hi), max(hi, 2 * size - lo)
    return blurred[0, 0, lo:hi + 1, lo:hi + 1].to(dtype)


def defocus_blur(x: Tensor, level: tuple, generator=None) -> Tensor:
    """Disk kernel of the given radius, anti-aliased by a 3x3 Gaussian, applied per channel
    with mirrored borders (cv2's default ``BORDER_REFLECT_101``)."""
    radius, alias_sigma = level
    kernel = _defocus_kernel(radius, alias_sigma, x.device, x.dtype)
    k, c = kernel.shape[0], x.shape[1]
    pad = k // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(padded, kernel.expand(c, 1, k, k), groups=c).clamp(0, 1)


def motion_blur(x: Tensor, level: tuple, generator=None) -> Tensor:
    """Motion blur along a random direction ``U(-45, 45)`` degrees per image.

    ``level = (radius, sigma)``. The reference calls ImageMagick's ``-motion-blur`` through Wand;
    this is a port of that operation (:func:`~.filters.motion_blur_line`: a one-sided
    Gaussian-weighted line of ``2 * radius + 1`` taps at whole-pixel offsets), not ImageMagick
    itself, and without its 8-bit rounding of the result.
    """
    radius, sigma = level
    angle = torch.rand(x.shape[0], generator=generator, device=x.device) * 90 - 45
    return motion_blur_line(x, radius, sigma, angle).clamp(0, 1)


def zoom_blur(x: Tensor, factors: tuple, generator=None) -> Tensor:
    """The mean of the image and its central zooms by each factor (bilinear, corner-aligned, as
    scipy's ``zoom(order=1)``). The factors are the script's ``np.arange(1, 1 + s, 0.01)``,
    quirks included (:data:`ZOOM_FACTORS`)."""
    out = x.clone()
    for factor in factors:
        out += clipped_zoom(x, factor)
    return (out / (len(factors) + 1)).clamp(0, 1)


def _zoom_factors(stop: float) -> tuple[float, ...]:
    import numpy as np

    return tuple(float(f) for f in np.arange(1, stop, 0.01))


#: The zoom factors of severities 1..5, from the same ``np.arange`` calls as the script (float
#: rounding in ``arange`` gives 7, 12, 16, 21 and 26 factors, the first two one more than intended).
ZOOM_FACTORS = tuple(_zoom_factors(stop) for stop in (1.06, 1.11, 1.16, 1.21, 1.26))
