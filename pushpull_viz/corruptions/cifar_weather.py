"""CIFAR-10-C's weather corruptions in batched torch: snow, frost, fog and spatter.

Same conventions as :mod:`.cifar_noise`; differences from the reference script are stated per
function. Frost needs the frost photographs that ship with the ``imagecorruptions-imaug``
package (``pip install "pushpull-viz[corruptions]"``).
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from .color import needs_rgb
from .filters import (
    box_blur3,
    canny,
    clipped_zoom,
    correlate3x3,
    distance_to_edges,
    equalize_hist,
    gaussian_filter,
    motion_blur_line,
    pad2d,
)

__all__ = ["fog", "frost", "frost_photos", "plasma_fractal", "snow", "spatter"]


def _rand(shape, like: Tensor, generator) -> Tensor:
    return torch.rand(shape, generator=generator, device=like.device, dtype=torch.float32)


def _gray(x: Tensor) -> Tensor:
    """OpenCV's RGB -> gray weights; a one-channel image is its own gray."""
    if x.shape[1] == 1:
        return x
    r, g, b = x.unbind(1)
    return (0.299 * r + 0.587 * g + 0.114 * b)[:, None]


def snow(x: Tensor, level: tuple, generator=None) -> Tensor:
    """Snow flakes: thresholded zoomed Gaussian noise, motion-blurred down-left, added twice
    (once rotated by 180 degrees) to a whitened image.

    ``level = (mean, std, zoom, threshold, blur radius, blur sigma, blend)``. The flakes' motion
    blur is the ImageMagick port of :func:`~.filters.motion_blur_line` (angle ``U(-135, -45)``),
    with the script's 8-bit truncation before it and rounding after it.
    """
    mean, std, zoom, threshold, radius, sigma, blend = level
    n, _, h, w = x.shape
    flakes = mean + std * torch.randn((n, 1, h, w), generator=generator, device=x.device, dtype=x.dtype)
    flakes = clipped_zoom(flakes, zoom)
    flakes = torch.where(flakes < threshold, torch.zeros_like(flakes), flakes)
    flakes = torch.floor(flakes.clamp(0, 1) * 255 + 1e-3)
    angle = _rand(n, x, generator) * 90 - 135
    flakes = motion_blur_line(flakes, radius, sigma, angle).round() / 255
    whitened = blend * x + (1 - blend) * torch.maximum(x, _gray(x) * 1.5 + 0.5)
    return (whitened + flakes + flakes.flip(-2, -1)).clamp(0, 1)


def _frost_directory() -> Path:
    spec = importlib.util.find_spec("imagecorruptions")  # located, not imported (that would load numba)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "frost needs the frost photographs of the imagecorruptions-imaug package: "
            "pip install imagecorruptions-imaug (or pip install 'pushpull-viz[corruptions]')")
    return Path(list(spec.submodule_search_locations)[0]) / "frost"


#: The script's photo list; it draws ``randint(5)``, so the sixth is never used.
FROST_FILES = ("frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg", "frost6.jpg")


@functools.lru_cache(maxsize=4)
def frost_photos(device: str = "cpu", scale: float = 0.2) -> tuple[Tensor, ...]:
    """The five frost photographs the scripts draw from, RGB float in [0, 1] ``(3, h, w)``.

    ``scale = 0.2`` (CIFAR-10-C): shrunk with bilinear interpolation (OpenCV's ``resize``
    default) and rounded to 8 bits; ``scale = 1`` (ImageNet-C): as they are.
    """
    import numpy as np
    from PIL import Image

    photos = []
    for name in FROST_FILES[:5]:
        path = _frost_directory() / name
        if not path.is_file():
            raise FileNotFoundError(f"frost photograph {path} is missing; reinstall imagecorruptions-imaug")
        with Image.open(path) as picture:
            rgb = np.asarray(picture.convert("RGB"), dtype=np.float32)
        full = torch.from_numpy(rgb).permute(2, 0, 1)[None]
        if scale != 1:
            # OpenCV maps output to input pixels with the exact factor 1 / 0.2 = 5, as torch does when
            # given scale_factor without recomputing it (sizes are floor(size * 0.2), equal to
            # OpenCV's rounded sizes for all five photographs)
            full = F.interpolate(full, scale_factor=scale, mode="bilinear", align_corners=False, antialias=False,
                                 recompute_scale_factor=False).round().clamp(0, 255)
        photos.append((full[0] / 255).to(device))
    return tuple(photos)


def frost(x: Tensor, level: tuple, generator=None, *, photo_scale: float = 0.2) -> Tensor:
    """``a * image + b * frost``: a random crop of one of five frost photographs per image.

    ``level = (a, b)``. The photographs are those the scripts use, from the
    ``imagecorruptions-imaug`` package (:func:`frost_photos`), scaled by ``photo_scale`` (0.2 for
    CIFAR-10-C, 1 for ImageNet-C). Images must be smaller than every photograph (the crop
    corner is ``randint(0, photo_size - image_size)``).
    """
    needs_rgb(x, "frost")
    image_weight, frost_weight = level
    n, _, h, w = x.shape
    photos = frost_photos(str(x.device), photo_scale)
    ph, pw = min(p.shape[-2] for p in photos), min(p.shape[-1] for p in photos)
    if ph <= h or pw <= w:
        raise ValueError(f"frost needs images smaller than its photographs ({ph}x{pw} at scale {photo_scale}), "
                         f"got {h}x{w}")
    choice = torch.randint(0, 5, (n,), generator=generator, device=x.device)
    corner = _rand((n, 2), x, generator)
    layer = torch.empty_like(x)
    for k, photo in enumerate(photos):
        chosen = (choice == k).nonzero().flatten()
        if chosen.numel() == 0:
            continue
        ph, pw = photo.shape[-2:]
        top = (corner[chosen, 0] * (ph - h)).long()
        left = (corner[chosen, 1] * (pw - w)).long()
        rows = top[:, None] + torch.arange(h, device=x.device)
        cols = left[:, None] + torch.arange(w, device=x.device)
        crops = photo[:, rows[:, :, None], cols[:, None, :]]  # (3, n_k, h, w)
        layer[chosen] = crops.permute(1, 0, 2, 3).to(x.dtype)
    return (image_weight * x + frost_weight * layer).clamp(0, 1)


def plasma_fractal(n: int, size: int, decay: float, generator=None, device=None) -> Tensor:
    """``n`` diamond-square plasma maps ``(n, size, size)`` in [0, 1] (``size`` a power of two),
    as the script makes them: new points are the mean of their four neighbours (wrapping
    around) plus ``wibble * U(-wibble, wibble)``, with ``wibble = 100`` divided by ``decay`` at
    each halving of the step; the map is then stretched to [0, 1]."""
    if size < 2 or size & (size - 1):
        raise ValueError(f"plasma map size must be a power of two >= 2, got {size}")
    field = torch.zeros(n, size, size, device=device, dtype=torch.float64)
    step, wibble = size, 100.0

    def wibbled_mean(total: Tensor) -> Tensor:
        noise = torch.rand(total.shape, generator=generator, device=device, dtype=torch.float64)
        return total / 4 + wibble * (noise * 2 * wibble - wibble)

    while step >= 2:
        half = step // 2
        corners = field[:, ::step, ::step]
        squares = corners + corners.roll(-1, 1)
        squares = squares + squares.roll(-1, 2)
        field[:, half::step, half::step] = wibbled_mean(squares)
        centres = field[:, half::step, half::step]
        corners = field[:, ::step, ::step]
        field[:, ::step, half::step] = wibbled_mean(centres + centres.roll(1, 1) + corners + corners.roll(-1, 2))
        field[:, half::step, ::step] = wibbled_mean(centres + centres.roll(1, 2) + corners + corners.roll(-1, 1))
        step //= 2
        wibble /= decay
    low = field.amin((1, 2), keepdim=True)
    high = field.amax((1, 2), keepdim=True)
    return (field - low) / (high - low)


def fog(x: Tensor, level: tuple, generator=None) -> Tensor:
    """``(x + strength * plasma) * max / (max + strength)`` with one plasma map per image and
    ``max`` the image's brightest value. ``level = (strength, decay)``."""
    strength, decay = level
    n, _, h, w = x.shape
    size = 1 << max(1, math.ceil(math.log2(max(h, w))))
    plasma = plasma_fractal(n, size, decay, generator, x.device)[:, None, :h, :w].to(x.dtype)
    brightest = x.amax((1, 2, 3), keepdim=True)
    return ((x + strength * plasma) * brightest / (brightest + strength)).clamp(0, 1)


#: Spatter colours (RGB, as they land on the script's RGB images).
WATER = (175 / 255, 238 / 255, 238 / 255)  # pale turquoise
MUD = (63 / 255, 42 / 255, 20 / 255)  # brown


def _water_texture(liquid_8bit: Tensor) -> Tensor:
    """The script's OpenCV chain that shapes water drops: Canny edges of the liquid layer,
    distance to them capped at 20, 3x3 blur, histogram equalisation, an emboss-like 3x3 filter
    (saturated to 8 bits) and a last 3x3 blur. OpenCV's 5x5 chamfer distance is replaced by the
    exact Euclidean distance."""
    edges = canny(liquid_8bit, 50, 150)
    distance = distance_to_edges(edges, max_distance=20).clamp(max=20)
    distance = torch.floor(box_blur3(distance) + 1e-4)
    distance = equalize_hist(distance)
    emboss = ((-2, -1, 0), (-1, 1, 1), (0, 1, 2))
    padded = pad2d(distance, 1, "mirror")  # BORDER_REFLECT_101
    distance = correlate3x3(padded, emboss).clamp(0, 255)  # whole numbers: exact, as a convolution
    return box_blur3(distance)


def spatter(x: Tensor, level: tuple, generator=None) -> Tensor:
    """Water drops (severities 1-3) or mud (4-5) from a smoothed, thresholded noise layer.

    ``level = (mean, std, sigma, threshold, intensity, mode)`` with mode 0 = water, 1 = mud.
    Water: the liquid layer times the texture of :func:`_water_texture`, scaled to
    ``intensity`` at its maximum, adds pale turquoise; where an image gets no drop at all the
    script divides 0 by 0, here the image stays unchanged. Mud: the thresholded layer, blurred
    with ``sigma = intensity`` and cut below 0.8, blends towards brown.
    """
    needs_rgb(x, "spatter")
    mean, std, sigma, threshold, intensity, mode = level
    n, _, h, w = x.shape
    liquid = mean + std * torch.randn((n, 1, h, w), generator=generator, device=x.device, dtype=torch.float32)
    liquid = gaussian_filter(liquid, sigma)
    liquid = torch.where(liquid < threshold, torch.zeros_like(liquid), liquid)
    if mode == 0:
        liquid_8bit = torch.floor(liquid.clamp(0, 1) * 255 + 1e-3)
        mask = liquid_8bit * _water_texture(liquid_8bit)
        peak = mask.amax((2, 3), keepdim=True)
        mask = torch.where(peak > 0, mask / peak.clamp_min(1e-12), torch.zeros_like(mask)) * intensity
        colour = torch.tensor(WATER, device=x.device, dtype=torch.float32).view(1, 3, 1, 1)
        return (x + mask.to(x.dtype) * colour.to(x.dtype)).clamp(0, 1)
    mask = gaussian_filter((liquid > threshold).float(), intensity)
    mask = torch.where(mask < 0.8, torch.zeros_like(mask), mask).to(x.dtype)
    colour = torch.tensor(MUD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * (1 - mask) + colour * mask).clamp(0, 1)
