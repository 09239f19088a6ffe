"""Batched image filters the corruptions are built from, each a torch stand-in for the
scipy / scikit-image / OpenCV / ImageMagick call of the CIFAR-10-C script.

All take and return float tensors ``(N, C, H, W)`` (any device) and work on every image of
the batch at once; where a filter has a random parameter per image (a motion angle), it is a
tensor of shape ``(N,)``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["box_blur3", "canny", "clipped_zoom", "correlate3x3", "distance_to_edges", "equalize_hist", "filter_matrix",
           "gaussian_filter", "gaussian_kernel1d",
           "hysteresis",
           "motion_blur_line", "pad2d", "pad_indices"]


def pad_indices(size: int, pad: int, mode: str, device=None) -> Tensor:
    """Source indices of a signal of length ``size`` padded by ``pad`` on both sides.

    ``mode``: ``"nearest"`` (edge repeated), ``"symmetric"`` (scipy's ``reflect``: the edge
    sample is repeated, ``d c b a | a b c d``) or ``"mirror"`` (scipy's ``mirror``, OpenCV's
    ``BORDER_REFLECT_101``: ``d c b | a b c d``). Works for pads longer than the signal.
    """
    i = torch.arange(-pad, size + pad, device=device)
    if mode == "nearest":
        return i.clamp(0, size - 1)
    if mode == "symmetric":
        i = i % (2 * size)
        return torch.where(i >= size, 2 * size - 1 - i, i)
    if mode == "mirror":
        if size == 1:
            return torch.zeros_like(i)
        i = i % (2 * size - 2)
        return torch.where(i >= size, 2 * size - 2 - i, i)
    raise ValueError(f"mode must be 'nearest', 'symmetric' or 'mirror', got {mode!r}")


def pad2d(x: Tensor, pad: int, mode: str) -> Tensor:
    """Pad the last two axes of ``x`` by ``pad`` with a :func:`pad_indices` mode."""
    rows = pad_indices(x.shape[-2], pad, mode, x.device)
    cols = pad_indices(x.shape[-1], pad, mode, x.device)
    return x[..., rows[:, None], cols[None, :]]


def filter_matrix(size: int, kernel: Tensor, mode: str) -> Tensor:
    """The ``(size, size)`` matrix that correlates a signal with ``kernel`` (odd length, centred),
    its border handling (:func:`pad_indices` ``mode``) folded in."""
    k = kernel.numel()
    source = pad_indices(size, k // 2, mode, kernel.device)  # (size + k - 1,)
    rows = torch.arange(size, device=kernel.device)
    columns = source[rows[:, None] + torch.arange(k, device=kernel.device)[None, :]]  # (size, k)
    matrix = torch.zeros(size * size, device=kernel.device, dtype=kernel.dtype)
    matrix.index_add_(0, (rows[:, None] * size + columns).flatten(), kernel.repeat(size))
    return matrix.view(size, size)


def _separable(x: Tensor, kernel: Tensor, mode: str) -> Tensor:
    """Correlate every channel with ``kernel`` along rows and columns, borders handled by ``mode``.
    Done as ``R @ x @ C^T`` with banded matrices: for small images a batched matrix product is
    several times faster than a convolution."""
    h, w = x.shape[-2:]
    rows = filter_matrix(h, kernel, mode)
    columns = rows if w == h else filter_matrix(w, kernel, mode)
    return rows @ x @ columns.T


def gaussian_filter(x: Tensor, sigma: float, truncate: float = 4.0, mode: str = "nearest") -> Tensor:
    """scipy's ``gaussian_filter`` over the two spatial axes (what scikit-image's ``gaussian`` does).

    The kernel radius is ``int(truncate * sigma + 0.5)``; ``sigma = 0`` returns ``x`` unchanged.
    """
    if sigma <= 0 or int(truncate * sigma + 0.5) == 0:
        return x
    return _separable(x, gaussian_kernel1d(sigma, truncate, x.device, x.dtype), mode)


def gaussian_kernel1d(sigma: float, truncate: float = 4.0, device=None, dtype=torch.float32) -> Tensor:
    """The normalised 1-D Gaussian of scipy's ``gaussian_filter``: radius ``int(truncate * sigma + 0.5)``."""
    radius = int(truncate * sigma + 0.5)
    t = torch.arange(-radius, radius + 1, device=device, dtype=dtype)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    return kernel / kernel.sum()


def box_blur3(x: Tensor) -> Tensor:
    """OpenCV's ``blur(x, (3, 3))``: 3x3 mean with ``BORDER_REFLECT_101``."""
    return _separable(x, torch.full((3,), 1 / 3, device=x.device, dtype=x.dtype), "mirror")


def clipped_zoom(x: Tensor, factor: float) -> Tensor:
    """Zoom into the centre by ``factor`` >= 1, keeping the size: crop the central
    ``ceil(size / factor)`` pixels, up-sample them bilinearly to ``round(crop * factor)`` with
    scipy ``zoom``'s corner-aligned grid, and trim the centre back to the input size."""
    h, w = x.shape[-2:]
    ch, cw = math.ceil(h / factor), math.ceil(w / factor)
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = x[..., top:top + ch, left:left + cw]
    oh, ow = int(round(ch * factor)), int(round(cw * factor))
    if (oh, ow) != (ch, cw):
        crop = F.interpolate(crop, size=(oh, ow), mode="bilinear", align_corners=True)
    trim_top, trim_left = (oh - h) // 2, (ow - w) // 2
    return crop[..., trim_top:trim_top + h, trim_left:trim_left + w]


#: motion_blur_line gathers whole batches up to this many pixels per image, and slices above
_GATHER_PIXELS = 64 * 64


def motion_blur_line(x: Tensor, radius: int, sigma: float, angle_degrees: Tensor) -> Tensor:
    """ImageMagick's ``-motion-blur radius x sigma + angle`` (what the CIFAR-10-C script calls
    through Wand), one angle per image.

    The kernel is one-sided: tap ``i = 0 .. 2 * radius`` has weight ``exp(-i^2 / (2 sigma^2))``
    (normalised) and reads the pixel ``i`` steps along the angle, offsets rounded to whole
    pixels as ImageMagick does, borders repeated (its default edge virtual pixels).

    Small images (CIFAR, MNIST) gather every tap for the whole batch at once; images of more
    than 64x64 pixels (ImageNet-C) add shifted slices of an edge-padded copy image by image,
    several times faster there. Both sum the same products in the same order: same result.
    """
    n, c, h, w = x.shape
    taps = torch.arange(2 * radius + 1, device=x.device, dtype=torch.float64)
    weights = torch.exp(-taps**2 / (2 * sigma**2))
    weights = (weights / weights.sum()).to(x.dtype)
    angle = torch.deg2rad(angle_degrees.to(device=x.device, dtype=torch.float64))
    dx = torch.ceil(taps[None, :] * torch.cos(angle)[:, None] - 0.5).long()  # (N, taps)
    dy = torch.ceil(taps[None, :] * torch.sin(angle)[:, None] - 0.5).long()
    if h * w > _GATHER_PIXELS and n > 0:
        reach = int(torch.maximum(dx.abs(), dy.abs()).max())
        padded = F.pad(x, (reach,) * 4, mode="replicate")
        out = torch.zeros_like(x)
        for k, shifts in enumerate(torch.stack([dy, dx], -1).tolist()):
            for i, (down, right) in enumerate(shifts):
                out[k] += weights[i] * padded[k, :, reach + down:reach + down + h, reach + right:reach + right + w]
        return out
    rows = torch.arange(h, device=x.device)
    cols = torch.arange(w, device=x.device)
    flat = x.reshape(n, c, h * w)
    out = torch.zeros_like(flat)
    for i in range(taps.numel()):
        r = (rows[None, :] + dy[:, i, None]).clamp(0, h - 1)  # (N, H)
        q = (cols[None, :] + dx[:, i, None]).clamp(0, w - 1)  # (N, W)
        index = (r[:, :, None] * w + q[:, None, :]).reshape(n, 1, h * w).expand(n, c, h * w)
        out += weights[i] * flat.gather(2, index)
    return out.reshape(n, c, h, w)


def correlate3x3(padded: Tensor, kernel: tuple) -> Tensor:
    """Correlate ``padded`` ``(..., H + 2, W + 2)`` with a 3x3 ``kernel`` (nested tuples of
    numbers) as a sum of shifted slices, skipping zero weights; returns ``(..., H, W)``.

    On whole-number images with whole-number weights (Canny's Sobel, spatter's emboss) every
    partial sum is exact, so the result equals a convolution's bit for bit, and for small
    channel counts it is several times faster than ``F.conv2d`` on the CPU.
    """
    h, w = padded.shape[-2] - 2, padded.shape[-1] - 2
    out = None
    for i, row in enumerate(kernel):
        for j, weight in enumerate(row):
            if weight == 0:
                continue
            term = padded[..., i:i + h, j:j + w] * weight
            out = term if out is None else out + term
    return torch.zeros_like(padded[..., 1:h + 1, 1:w + 1]) if out is None else out


def canny(x: Tensor, low: float, high: float) -> Tensor:
    """OpenCV's ``Canny(image, low, high)`` on 8-bit-valued images ``(N, 1, H, W)`` (values
    0..255): 3x3 Sobel with repeated borders, L1 gradient magnitude, non-maximum suppression in
    four directions with OpenCV's tie rules, and hysteresis over 8-connected pixels.
    Returns a float mask (1 on edges)."""
    sobel = ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1))
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    gx = correlate3x3(padded, sobel)
    gy = correlate3x3(padded, tuple(zip(*sobel, strict=True)))
    mag = gx.abs() + gy.abs()
    m = F.pad(mag, (1, 1, 1, 1))  # magnitudes outside the image count as 0

    def at(dr: int, dc: int) -> Tensor:
        h, w = mag.shape[-2:]
        return m[..., 1 + dr:1 + dr + h, 1 + dc:1 + dc + w]

    tan22 = math.tan(math.pi / 8)
    ax, ay = gx.abs(), gy.abs()
    horizontal = ay < ax * tan22
    vertical = ~horizontal & (ay > ax * (tan22 + 2))
    diagonal = ~horizontal & ~vertical
    same_sign = (gx * gy) >= 0  # OpenCV's s = +1 when the signs of dx and dy agree
    local_max = torch.where(horizontal, (mag > at(0, -1)) & (mag >= at(0, 1)), torch.zeros_like(horizontal))
    local_max |= vertical & (mag > at(-1, 0)) & (mag >= at(1, 0))
    diag_pos = (mag > at(-1, -1)) & (mag > at(1, 1))
    diag_neg = (mag > at(-1, 1)) & (mag > at(1, -1))
    local_max |= diagonal & torch.where(same_sign, diag_pos, diag_neg)
    candidate = local_max & (mag > low)
    return hysteresis(candidate, candidate & (mag > high)).to(x.dtype)


def _dilate3x3(mask: Tensor) -> Tensor:
    """3x3 binary dilation of a boolean mask (a 3x3 max-pool, borders not wrapping), as ORs of
    shifted slices: several times faster than ``max_pool2d`` on large images."""
    rows = mask.clone()
    rows[..., 1:, :] |= mask[..., :-1, :]
    rows[..., :-1, :] |= mask[..., 1:, :]
    out = rows.clone()
    out[..., :, 1:] |= rows[..., :, :-1]
    out[..., :, :-1] |= rows[..., :, 1:]
    return out


def hysteresis(candidate: Tensor, strong: Tensor) -> Tensor:
    """Edge hysteresis: the ``candidate`` pixels 8-connected (through candidates) to a ``strong``
    one. Boolean masks ``(N, C, H, W)``; grows the strong set until it stops changing."""
    edges = strong & candidate
    while True:
        grown = candidate & _dilate3x3(edges)
        if torch.equal(grown, edges):
            return edges
        edges = grown


def distance_to_edges(edges: Tensor, max_distance: float | None = None) -> Tensor:
    """Exact Euclidean distance of every pixel to the nearest edge pixel of ``edges``
    ``(N, 1, H, W)`` (nonzero = edge); ``inf`` where an image has no edge. A stand-in for
    OpenCV's ``distanceTransform(255 - edges, DIST_L2, 5)``, whose 5x5 chamfer mask
    approximates the same distance (within about 2%).

    With ``max_distance``, distances up to it are exact and larger ones are only guaranteed to
    exceed it (for a caller that caps them, as spatter caps at 20): the nearest edge along each
    row comes from running maxima and minima of edge positions, then only rows within
    ``max_distance`` are searched, in memory ``O(N H W)`` instead of ``O(N H W max(H, W))``.
    """
    n, _, h, w = edges.shape
    inf = torch.tensor(float("inf"), device=edges.device, dtype=torch.float32)
    cols = torch.arange(w, device=edges.device, dtype=torch.float32)
    rows = torch.arange(h, device=edges.device, dtype=torch.float32)
    is_edge = edges[:, 0] != 0  # (N, H, W)
    if max_distance is not None:
        left = torch.where(is_edge, cols, -inf).cummax(-1).values  # nearest edge column at or left of j
        right = torch.where(is_edge, cols, inf).flip(-1).cummin(-1).values.flip(-1)  # at or right of j
        row_d2 = torch.minimum(cols - left, right - cols) ** 2  # (N, H, W), inf for a row without edges
        reach = int(math.floor(max_distance))
        padded = F.pad(row_d2, (0, 0, reach, reach), value=float("inf"))
        total = row_d2.clone()
        for offset in range(1, reach + 1):
            total = torch.minimum(total, padded[:, reach + offset:reach + offset + h] + offset**2)
            total = torch.minimum(total, padded[:, reach - offset:reach - offset + h] + offset**2)
        return total.sqrt()[:, None]
    # squared distance along each row to the nearest edge in that row: min over k of (j - k)^2
    along = torch.where(is_edge[:, :, None, :], ((cols[:, None] - cols[None, :]) ** 2)[None, None], inf)
    row_d2 = along.amin(-1)  # (N, H, W)
    # then over rows: min over l of row_d2[l, j] + (i - l)^2
    total = row_d2[:, None, :, :] + ((rows[:, None] - rows[None, :]) ** 2)[None, :, :, None]
    return total.amin(2).sqrt()[:, None]


def equalize_hist(x: Tensor) -> Tensor:
    """OpenCV's ``equalizeHist`` per image on 8-bit-valued ``(N, 1, H, W)`` (values 0..255,
    whole numbers): the cumulative histogram, from the first occupied level, stretched to
    0..255 and rounded; an image of one grey level is returned unchanged."""
    n = x.shape[0]
    levels = x.reshape(n, -1).long().clamp(0, 255)
    hist = torch.zeros(n, 256, device=x.device, dtype=torch.float64)
    hist.scatter_add_(1, levels, torch.ones_like(levels, dtype=torch.float64))
    total = levels.shape[1]
    first = (hist > 0).double().argmax(1, keepdim=True)  # lowest occupied level
    first_count = hist.gather(1, first)
    cumulative = hist.cumsum(1) - first_count  # counts above the first level, cumulated
    scale = 255 / (total - first_count).clamp(min=1)
    lut = torch.floor(cumulative * scale + 0.5).clamp(0, 255)
    lut = torch.where(torch.arange(256, device=x.device)[None] < first, torch.zeros_like(lut), lut)
    constant = first_count == total
    lut = torch.where(constant, torch.arange(256, device=x.device, dtype=lut.dtype)[None].expand(n, 256), lut)
    return lut.gather(1, levels).reshape(x.shape).to(x.dtype)
