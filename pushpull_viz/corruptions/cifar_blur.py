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

__all__ = ["ZOOM_FACTORS", "defocus_blur", "gaussian_blur", "glass_blur", "motion_blur", "zoom_blur", "zoom_factors"]


def gaussian_blur(x: Tensor, sigma: float, generator=None) -> Tensor:
    """Per-channel Gaussian blur, truncated at 4 sigma, edges repeated (scikit-image's
    ``gaussian`` with its default ``mode="nearest"``)."""
    return gaussian_filter(x, sigma).clamp(0, 1)


def _truncate_to_8bit(x: Tensor) -> Tensor:
    return torch.floor(x.clamp(0, 1) * 255 + 1e-3) / 255


def _follow_copies(source: Tensor, rows: Tensor, cols: Tensor, width: int) -> Tensor:
    """Resolve the script's sequential copies ``x[p] = x[source[p]]`` into one gather.

    ``source``: ``(N, R, C)`` flat pixel indices read by the visited pixels ``rows x cols``, which
    the script visits bottom-right to top-left (decreasing flat index). A pixel whose source was
    visited before it (a larger flat index, inside the visited block) reads that source's new
    value, i.e. its source's source: the chains are followed by pointer jumping (``log2`` of the
    longest chain gathers), giving the indices of the ORIGINAL pixels each visited pixel ends
    up with.
    """
    n, r, c = source.shape
    top, left = int(rows[0]), int(cols[0])
    src_row, src_col = source // width, source % width
    inside = (src_row >= top) & (src_row < top + r) & (src_col >= left) & (src_col < left + c)
    position = torch.arange(r * c, device=source.device).view(1, r, c)
    flat = (rows[:, None] * width + cols[None, :]).view(1, r, c)
    chained = inside & (source > flat)  # the source was visited (and overwritten) earlier
    parent = torch.where(chained, (src_row - top) * c + (src_col - left), position).reshape(n, -1)
    while True:
        jumped = parent.gather(1, parent)
        if torch.equal(jumped, parent):
            break
        parent = jumped
    return source.reshape(n, -1).gather(1, parent).view(n, r, c)


def glass_blur(x: Tensor, level: tuple, generator=None) -> Tensor:
    """Gaussian blur, local pixel shuffling, Gaussian blur again.

    ``level = (sigma, max_delta, iterations)``. As in the reference scripts: the first blur is
    truncated to 8 bits; then, in each iteration, every pixel at rows and columns
    ``max_delta + 1 .. size - max_delta`` takes the value of its neighbour at offsets drawn from
    ``randint(-max_delta, max_delta)`` (numpy's exclusive upper bound). The script's "swap" on
    numpy views (and in ``imagecorruptions``' numba loop) is in effect this copy, and the script
    visits pixels bottom-right to top-left. For ``max_delta = 1`` (CIFAR-10-C) offsets are -1 or
    0, so every pixel reads an unchanged one and the loop is one parallel gather. For larger
    deltas (ImageNet-C) a pixel can read one that was already overwritten; those chains are
    followed by pointer jumping (:func:`_follow_copies`), so the result is still the sequential
    loop's, computed in parallel.
    """
    sigma, delta, iterations = level
    if delta != int(delta) or delta < 1:
        raise ValueError(f"glass_blur max_delta must be a positive integer, got {delta}")
    delta = int(delta)
    n, c, h, w = x.shape
    y = _truncate_to_8bit(gaussian_filter(x, sigma))
    rows = torch.arange(delta + 1, h - delta + 1, device=x.device)
    cols = torch.arange(delta + 1, w - delta + 1, device=x.device)
    if rows.numel() == 0 or cols.numel() == 0:
        return gaussian_filter(y, sigma).clamp(0, 1)
    for _ in range(iterations):
        shift = torch.randint(-delta, delta, (2, n, rows.numel(), cols.numel()), generator=generator, device=x.device)
        source = (rows[None, :, None] + shift[0]) * w + (cols[None, None, :] + shift[1])  # (N, h', w')
        if delta > 1:
            source = _follow_copies(source, rows, cols, w)
        moved = y.flatten(2).gather(2, source.reshape(n, 1, -1).expand(n, c, -1))
        y = y.clone()
        y[:, :, delta + 1:h - delta + 1, delta + 1:w - delta + 1] = moved.reshape(n, c, rows.numel(), cols.numel())
    return gaussian_filter(y, sigma).clamp(0, 1)


def _defocus_kernel(radius: float, alias_sigma: float, device, dtype) -> Tensor:
    size = 8 if radius <= 8 else math.ceil(radius)
    t = torch.arange(-size, size + 1, device=device, dtype=torch.float64)
    disk = ((t[:, None] ** 2 + t[None, :] ** 2) <= radius**2).double()
    disk /= disk.sum()
    half = 1 if radius <= 8 else 2  # the scripts blur the disk with a 3x3 cv2.GaussianBlur, 5x5 above radius 8
    g = torch.exp(-0.5 * (torch.arange(-half, half + 1.0, dtype=torch.float64, device=device) / alias_sigma) ** 2)
    g /= g.sum()
    blurred = F.conv2d(F.pad(disk[None, None], (half,) * 4, mode="reflect"), (g[:, None] * g[None, :])[None, None])
    nonzero = blurred[0, 0].abs().sum(0).nonzero().flatten()  # crop the all-zero border of the support
    lo, hi = int(nonzero.min()), int(nonzero.max())
    lo, hi = min(lo, 2 * size - hi), max(hi, 2 * size - lo)
    return blurred[0, 0, lo:hi + 1, lo:hi + 1].to(dtype)


def defocus_blur(x: Tensor, level: tuple, generator=None) -> Tensor:
    """Disk kernel of the given radius, anti-aliased by a 3x3 Gaussian (5x5 above radius 8, as the
    scripts' ``disk``), applied per channel with mirrored borders (cv2's default
    ``BORDER_REFLECT_101``). Kernels up to 7x7 (all of CIFAR-10-C's) are applied as a direct
    convolution, larger ones (ImageNet-C's) through the FFT: the same correlation, to float
    rounding (about 1e-6)."""
    radius, alias_sigma = level
    kernel = _defocus_kernel(radius, alias_sigma, x.device, x.dtype)
    k, c = kernel.shape[0], x.shape[1]
    pad = k // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    if k > _DIRECT_DEFOCUS:  # ImageNet-C's 9x9 .. 21x21 disks: correlation through the FFT, ~2x faster on CPU
        size = padded.shape[-2:]
        spectrum = torch.fft.rfft2(padded) * torch.fft.rfft2(kernel, s=size).conj()
        return torch.fft.irfft2(spectrum, s=size)[..., :x.shape[-2], :x.shape[-1]].clamp(0, 1)
    return F.conv2d(padded, kernel.expand(c, 1, k, k), groups=c).clamp(0, 1)


#: the largest defocus kernel applied as a direct convolution (CIFAR-10-C's are at most 5x5)
_DIRECT_DEFOCUS = 7


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


def zoom_factors(stop: float, step: float = 0.01) -> tuple[float, ...]:
    """The script's zoom factors ``np.arange(1, stop, step)``, float rounding included."""
    import numpy as np

    return tuple(float(f) for f in np.arange(1, stop, step))


#: The zoom factors of severities 1..5, from the same ``np.arange`` calls as the script (float
#: rounding in ``arange`` gives 7, 12, 16, 21 and 26 factors, the first two one more than intended).
ZOOM_FACTORS = tuple(zoom_factors(stop) for stop in (1.06, 1.11, 1.16, 1.21, 1.26))
