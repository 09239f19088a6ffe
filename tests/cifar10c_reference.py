"""Straightforward per-image numpy/scipy/PIL reference for CIFAR-10-C corruptions.

Follows the published recipe of Hendrycks & Dietterich (2019), i.e. the
semantics of ``make_cifar_c.py`` with its 32x32 parameter table, written
independently and per image for clarity rather than speed. It serves as the
statistical reference (mean absolute change, PSNR per severity) for the fast
torch implementation.

Float recipes work on ``x = image / 255`` in [0, 1] and, like the reference
script, are cast back with ``np.uint8(np.clip(x, 0, 1) * 255)``: clip, then
multiply, then *truncate* (not round). ``pixelate`` and ``jpeg_compression``
operate on PIL images and return their uint8 result directly.
"""
from __future__ import annotations

from io import BytesIO
from typing import Callable

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.color import hsv2rgb, rgb2hsv
from skimage.filters import gaussian
from skimage.util import random_noise

Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def _to_float(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64) / 255.0


def _to_uint8(x: np.ndarray) -> np.ndarray:
    """Reference-script cast: clip to [0, 1], scale by 255, truncate."""
    return np.uint8(np.clip(x, 0.0, 1.0) * 255)


def gaussian_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    c = [0.04, 0.06, 0.08, 0.09, 0.10][severity - 1]
    x = _to_float(image)
    return _to_uint8(x + rng.normal(0.0, c, size=x.shape))


def shot_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    c = [500, 250, 100, 75, 50][severity - 1]
    x = _to_float(image)
    return _to_uint8(rng.poisson(x * c) / c)


def impulse_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Salt & pepper: each channel value flipped w.p. ``amount``, then 1 or 0 with p=0.5."""
    c = [0.01, 0.02, 0.03, 0.05, 0.07][severity - 1]
    x = _to_float(image)
    return _to_uint8(random_noise(x, mode="s&p", amount=c, salt_vs_pepper=0.5, rng=rng))


def speckle_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    c = [0.06, 0.10, 0.12, 0.16, 0.20][severity - 1]
    x = _to_float(image)
    return _to_uint8(x + x * rng.normal(0.0, c, size=x.shape))


def gaussian_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """skimage Gaussian per channel, skimage default boundary mode ('nearest')."""
    c = [0.4, 0.6, 0.7, 0.8, 1.0][severity - 1]
    return _to_uint8(gaussian(_to_float(image), sigma=c, channel_axis=-1))


def _gaussian_kernel_3x3(sigma: float) -> np.ndarray:
    """Separable 3x3 Gaussian (as cv2.getGaussianKernel(3, sigma)), sum 1."""
    g = np.exp(-(np.arange(-1, 2, dtype=np.float64) ** 2) / (2.0 * sigma**2))
    g /= g.sum()
    return np.outer(g, g)


def _disk(radius: float, alias_blur: float) -> np.ndarray:
    """Normalised disk kernel, anti-aliased with a 3x3 Gaussian (reflect-101 borders)."""
    if radius <= 8:
        L = np.arange(-8, 8 + 1)
    else:
        L = np.arange(-radius, radius + 1)
    X, Y = np.meshgrid(L, L)
    disk = ((X**2 + Y**2) <= radius**2).astype(np.float64)
    disk /= disk.sum()
    return ndimage.correlate(disk, _gaussian_kernel_3x3(alias_blur), mode="mirror")


def defocus_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Per-channel correlation with the disk kernel; mode='mirror' == cv2 BORDER_REFLECT_101."""
    radius, alias_blur = [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)][severity - 1]
    x = _to_float(image)
    kernel = _disk(radius, alias_blur)
    out = np.stack(
        [ndimage.correlate(x[:, :, d], kernel, mode="mirror") for d in range(3)], axis=-1
    )
    return _to_uint8(out)


def _clipped_zoom(img: np.ndarray, z: float) -> np.ndarray:
    """Centre-crop ceil(h / z), bilinear zoom by z (scipy), trim the centre h x h."""
    h = img.shape[0]
    ch = int(np.ceil(h / z))
    top = (h - ch) // 2
    zoomed = ndimage.zoom(img[top : top + ch, top : top + ch], (z, z, 1), order=1)
    trim_top = (zoomed.shape[0] - h) // 2
    return zoomed[trim_top : trim_top + h, trim_top : trim_top + h]


def zoom_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    zooms = [
        np.arange(1, 1.06, 0.01),
        np.arange(1, 1.11, 0.01),
        np.arange(1, 1.16, 0.01),
        np.arange(1, 1.21, 0.01),
        np.arange(1, 1.26, 0.01),
    ][severity - 1]
    x = _to_float(image)
    out = np.zeros_like(x)
    for z in zooms:
        out += _clipped_zoom(x, z)
    return _to_uint8((x + out) / (len(zooms) + 1))


def brightness(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    c = [0.05, 0.1, 0.15, 0.2, 0.3][severity - 1]
    hsv = rgb2hsv(_to_float(image))
    hsv[:, :, 2] = np.clip(hsv[:, :, 2] + c, 0, 1)
    return _to_uint8(hsv2rgb(hsv))


def contrast(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    c = [0.75, 0.5, 0.4, 0.3, 0.15][severity - 1]
    x = _to_float(image)
    means = np.mean(x, axis=(0, 1), keepdims=True)
    return _to_uint8((x - means) * c + means)


def saturate(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    a, b = [(0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)][severity - 1]
    hsv = rgb2hsv(_to_float(image))
    hsv[:, :, 1] = np.clip(hsv[:, :, 1] * a + b, 0, 1)
    return _to_uint8(hsv2rgb(hsv))


def pixelate(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    c = [0.95, 0.9, 0.85, 0.75, 0.65][severity - 1]
    img = Image.fromarray(image)
    img = img.resize((int(32 * c), int(32 * c)), Image.BOX)
    img = img.resize((32, 32), Image.BOX)
    return np.asarray(img, dtype=np.uint8)


def jpeg_compression(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    q = [80, 65, 58, 50, 40][severity - 1]
    buf = BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=q)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"), dtype=np.uint8)


REFERENCE: dict[str, Corruption] = {
    "gaussian_noise": gaussian_noise,
    "shot_noise": shot_noise,
    "impulse_noise": impulse_noise,
    "speckle_noise": speckle_noise,
    "gaussian_blur": gaussian_blur,
    "defocus_blur": defocus_blur,
    "zoom_blur": zoom_blur,
    "brightness": brightness,
    "contrast": contrast,
    "saturate": saturate,
    "pixelate": pixelate,
    "jpeg_compression": jpeg_compression,
}


def corrupt_batch(images: np.ndarray, name: str, severity: int, seed: int = 0) -> np.ndarray:
    """Apply ``REFERENCE[name]`` to each uint8 NHWC image, sharing one seeded generator."""
    fn = REFERENCE[name]
    rng = np.random.default_rng(seed)
    return np.stack([fn(np.ascontiguousarray(img, dtype=np.uint8), severity, rng) for img in images])


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


if __name__ == "__main__":
    imgs = np.random.default_rng(123).integers(0, 256, size=(8, 32, 32, 3), dtype=np.uint8)
    print(f"{'corruption':<18}{'sev':>4}{'mean|d|':>10}{'PSNR dB':>10}")
    for name in REFERENCE:
        for sev in range(1, 6):
            out = corrupt_batch(imgs, name, sev, seed=0)
            assert out.shape == imgs.shape and out.dtype == np.uint8
            mad = np.mean(np.abs(out.astype(np.float64) - imgs.astype(np.float64)))
            print(f"{name:<18}{sev:>4}{mad:>10.2f}{_psnr(out, imgs):>10.2f}")
