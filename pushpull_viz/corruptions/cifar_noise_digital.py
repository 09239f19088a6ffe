"""CIFAR-10-C corruptions ported to batched torch, with the published 32x32 parameters.

So far: the noise family (gaussian, shot, impulse, speckle), gaussian and defocus blur, and
the digital/colour ones (brightness, contrast, saturate, pixelate, jpeg_compression). Each
function takes float images ``(N, 3, H, W)`` in [0, 1] and returns the same; the registry's
:func:`~pushpull_viz.corruptions.corrupt` handles uint8 and checks input. Differences from
the reference script (``make_cifar_c.py``) are stated per function. Like the reference (and
so the released files), uint8 results are truncated, not rounded: deliberate, so that
statistics match the published data.
"""

from __future__ import annotations

import io
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .color import hsv_to_rgb, rgb_to_hsv
from .registry import Corruption, register_corruption

__all__ = ["CIFAR10C_PARAMETERS"]

CIFAR10C_PARAMETERS = {
    "gaussian_noise": (0.04, 0.06, 0.08, 0.09, 0.10),
    "shot_noise": (500, 250, 100, 75, 50),
    "impulse_noise": (0.01, 0.02, 0.03, 0.05, 0.07),
    "speckle_noise": (0.06, 0.10, 0.12, 0.16, 0.20),
    "gaussian_blur": (0.4, 0.6, 0.7, 0.8, 1.0),
    "defocus_blur": ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)),
    "brightness": (0.05, 0.1, 0.15, 0.2, 0.3),
    "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),
    "saturate": ((0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)),
    "pixelate": (0.95, 0.9, 0.85, 0.75, 0.65),
    "jpeg_compression": (80, 65, 58, 50, 40),
}


def _randn(x: Tensor, generator) -> Tensor:
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def gaussian_noise(x: Tensor, sigma: float, generator=None) -> Tensor:
    """``x + N(0, sigma)``, clipped."""
    return (x + sigma * _randn(x, generator)).clamp(0, 1)


def shot_noise(x: Tensor, photons: float, generator=None) -> Tensor:
    """``Poisson(x * c) / c``, clipped."""
    return (torch.poisson(x * photons, generator=generator) / photons).clamp(0, 1)


def impulse_noise(x: Tensor, amount: float, generator=None) -> Tensor:
    """Salt and pepper: each channel value is replaced with probability ``amount``, by 1 or
    0 with equal odds (scikit-image's ``random_noise(mode="s&p")``)."""
    draw = torch.rand((2, *x.shape), generator=generator, device=x.device, dtype=x.dtype)
    replaced = draw[0] < amount
    return torch.where(replaced, (draw[1] < 0.5).to(x.dtype), x)


def speckle_noise(x: Tensor, sigma: float, generator=None) -> Tensor:
    """``x + x * N(0, sigma)``, clipped."""
    return (x + x * sigma * _randn(x, generator)).clamp(0, 1)


def _separable(x: Tensor, kernel: Tensor, mode: str) -> Tensor:
    c, k = x.shape[1], kernel.numel()
    pad = k // 2
    x = F.pad(x, (pad, pad, pad, pad), mode=mode)
    x = F.conv2d(x, kernel.view(1, 1, 1, k).expand(c, 1, 1, k), groups=c)
    return F.conv2d(x, kernel.view(1, 1, k, 1).expand(c, 1, k, 1), groups=c)


def gaussian_blur(x: Tensor, sigma: float, generator=None) -> Tensor:
    """Per-channel Gaussian blur, truncated at 4 sigma, edges replicated (scikit-image's
    ``gaussian`` default ``mode="nearest"``)."""
    radius = int(4 * sigma + 0.5)
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    return _separable(x, kernel / kernel.sum(), "replicate").clamp(0, 1)


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


def _needs_rgb(x: Tensor, name: str) -> None:
    if x.shape[1] != 3:
        raise ValueError(f"{name} works on RGB images (3 channels), got {x.shape[1]}")


def brightness(x: Tensor, amount: float, generator=None) -> Tensor:
    """HSV value channel ``+ amount``, clipped, back to RGB."""
    _needs_rgb(x, "brightness")
    hsv = rgb_to_hsv(x)
    hsv[:, 2] = (hsv[:, 2] + amount).clamp(0, 1)
    return hsv_to_rgb(hsv).clamp(0, 1)


def contrast(x: Tensor, factor: float, generator=None) -> Tensor:
    """``(x - mean) * factor + mean`` with each image's per-channel mean, clipped."""
    mean = x.mean(dim=(2, 3), keepdim=True)
    return ((x - mean) * factor + mean).clamp(0, 1)


def saturate(x: Tensor, level: tuple, generator=None) -> Tensor:
    """HSV saturation ``S * a + b``, clipped, back to RGB."""
    _needs_rgb(x, "saturate")
    a, b = level
    hsv = rgb_to_hsv(x)
    hsv[:, 1] = (hsv[:, 1] * a + b).clamp(0, 1)
    return hsv_to_rgb(hsv).clamp(0, 1)


def _pil_box_matrix(in_size: int, out_size: int, device, dtype) -> Tensor:
    """The ``(out, in)`` resampling matrix of Pillow's BOX filter: an output pixel averages the
    input pixels whose centres fall in its footprint (``in/out`` wide, at least 1)."""
    scale = in_size / out_size
    width = max(scale, 1.0)
    centers = (torch.arange(out_size, dtype=torch.float64) + 0.5) * scale
    inputs = torch.arange(in_size, dtype=torch.float64) + 0.5
    offset = (inputs[None, :] - centers[:, None]) / width
    weights = ((offset > -0.5) & (offset <= 0.5)).double()
    return (weights / weights.sum(1, keepdim=True)).to(device=device, dtype=dtype)


def pixelate(x: Tensor, factor: float, generator=None) -> Tensor:
    """Box down-scaling to ``int(size * factor)`` then box up-scaling back, as Pillow's
    ``Image.BOX`` does it (separable resampling matrices; Pillow also rounds to 8 bits
    between the two passes, which this does not)."""
    h, w = x.shape[-2:]
    sh, sw = int(h * factor), int(w * factor)
    down_h, down_w = _pil_box_matrix(h, sh, x.device, x.dtype), _pil_box_matrix(w, sw, x.device, x.dtype)
    up_h, up_w = _pil_box_matrix(sh, h, x.device, x.dtype), _pil_box_matrix(sw, w, x.device, x.dtype)
    return ((up_h @ down_h) @ x @ (up_w @ down_w).T).clamp(0, 1)


def jpeg_compression(x: Tensor, quality: int, generator=None) -> Tensor:
    """A real JPEG round trip through Pillow (on the CPU, image by image)."""
    from PIL import Image
    import numpy as np

    device, dtype = x.device, x.dtype
    images = (x.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    out = []
    for image in images:
        buffer = io.BytesIO()
        picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        picture.save(buffer, format="JPEG", quality=int(quality))
        buffer.seek(0)
        decoded = np.asarray(Image.open(buffer))
        out.append(decoded[..., None] if decoded.ndim == 2 else decoded)
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).to(device=device, dtype=dtype) / 255


_FUNCTIONS = {
    "gaussian_noise": (gaussian_noise, "noise sigma"),
    "shot_noise": (shot_noise, "photons c"),
    "impulse_noise": (impulse_noise, "salt-and-pepper amount"),
    "speckle_noise": (speckle_noise, "noise sigma"),
    "gaussian_blur": (gaussian_blur, "blur sigma"),
    "defocus_blur": (defocus_blur, "(disk radius, alias sigma)"),
    "brightness": (brightness, "HSV value shift"),
    "contrast": (contrast, "contrast factor"),
    "saturate": (saturate, "HSV saturation (a, b)"),
    "pixelate": (pixelate, "down-scale factor"),
    "jpeg_compression": (jpeg_compression, "JPEG quality"),
}
_NOTES = {
    "pixelate": "Pillow's BOX filter as resampling matrices, without Pillow's 8-bit rounding between passes",
    "jpeg_compression": "Pillow encoder on the CPU",
}
for _name, (_function, _parameter) in _FUNCTIONS.items():
    register_corruption(Corruption(_name, _function, CIFAR10C_PARAMETERS[_name], _parameter, "cifar10-c",
                                   _NOTES.get(_name, ""), truncate=True))
