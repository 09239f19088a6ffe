"""CIFAR-10-C's digital corruptions in batched torch: brightness, contrast, saturate, elastic
transform, pixelate and JPEG compression.

Same conventions as :mod:`.cifar_noise`; differences from the reference script are stated per
function.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .color import hsv_to_rgb, needs_rgb, rgb_to_hsv
from .filters import gaussian_filter

__all__ = ["brightness", "contrast", "elastic_transform", "jpeg_compression", "pixelate", "saturate"]


def brightness(x: Tensor, amount: float, generator=None) -> Tensor:
    """HSV value channel ``+ amount``, clipped, back to RGB."""
    needs_rgb(x, "brightness")
    hsv = rgb_to_hsv(x)
    hsv[:, 2] = (hsv[:, 2] + amount).clamp(0, 1)
    return hsv_to_rgb(hsv).clamp(0, 1)


def contrast(x: Tensor, factor: float, generator=None) -> Tensor:
    """``(x - mean) * factor + mean`` with each image's per-channel mean, clipped."""
    mean = x.mean(dim=(2, 3), keepdim=True)
    return ((x - mean) * factor + mean).clamp(0, 1)


def saturate(x: Tensor, level: tuple, generator=None) -> Tensor:
    """HSV saturation ``S * a + b``, clipped, back to RGB."""
    needs_rgb(x, "saturate")
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


#: images per task of the JPEG round trip's thread pool
_JPEG_CHUNK = 500


def _jpeg_round_trip(images: Tensor, quality: int) -> Tensor:
    """Encode and decode ``(n, c, h, w)`` uint8 CPU images one by one with libjpeg (torchvision)."""
    from torchvision.io import decode_jpeg, encode_jpeg

    return torch.stack([decode_jpeg(encode_jpeg(image, quality=quality)) for image in images])


def jpeg_compression(x: Tensor, quality: int, generator=None) -> Tensor:
    """A real JPEG round trip, image by image, on the CPU: libjpeg through ``torchvision.io``
    (the same encoder settings as Pillow's ``save(format="JPEG", quality=q)``, which the
    CIFAR-10-C script uses; the tests check the images are identical to Pillow's).

    Chunks of images run on a thread pool as wide as torch's CPU threads
    (``torch.get_num_threads()``): the codec runs without Python's lock, and each image's result
    does not depend on the chunking.
    """
    device, dtype = x.device, x.dtype
    images = (x.detach().clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    chunks = list(images.split(_JPEG_CHUNK))
    workers = min(len(chunks), max(1, torch.get_num_threads()))
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda chunk: _jpeg_round_trip(chunk, int(quality)), chunks))
    else:
        parts = [_jpeg_round_trip(chunk, int(quality)) for chunk in chunks]
    out = torch.cat(parts) if parts else images
    return out.to(device=device, dtype=dtype) / 255


def _uniform(shape, low: float, high: float, like: Tensor, generator) -> Tensor:
    u = torch.rand(shape, generator=generator, device=like.device, dtype=torch.float32)
    return (low + (high - low) * u).to(like.dtype)


def elastic_transform(x: Tensor, level: tuple, generator=None) -> Tensor:
    """A random affine warp, then a smooth random displacement field (the CIFAR-10-C recipe).

    ``level = (alpha, sigma, jitter)`` in pixels. The affine maps three points around the
    centre (``size // 2 +- size // 3``) to themselves plus ``U(-jitter, jitter)``; the image is
    resampled bilinearly with mirrored borders (OpenCV's ``warpAffine`` with
    ``BORDER_REFLECT_101``). Then each pixel moves by ``alpha`` times uniform noise smoothed
    by a Gaussian of ``sigma`` (truncated at 3 sigma, symmetric borders), sampled bilinearly
    with symmetric borders (scipy's ``map_coordinates(order=1, mode="reflect")``).
    OpenCV resamples at 1/32-pixel precision, this at full precision.
    """
    alpha, sigma, jitter = level
    n, _, h, w = x.shape
    work = x.float()
    centre = torch.tensor([w // 2, h // 2], dtype=torch.float64, device=x.device)
    half = min(h, w) // 3
    source = torch.stack([centre + half, centre + torch.tensor([half, -half], device=x.device), centre - half])
    target = source[None] + _uniform((n, 3, 2), -jitter, jitter, source, generator)
    ones = torch.ones(3, 1, dtype=torch.float64, device=x.device)
    # affine M (2x3) with M @ [p, 1] = q for the three point pairs; sample dst at M^-1 (dst)
    forward = torch.linalg.solve(torch.cat([source, ones], 1)[None].expand(n, 3, 3), target).transpose(1, 2)
    linear_inv = torch.linalg.inv(forward[:, :, :2])
    offset_inv = -(linear_inv @ forward[:, :, 2:])
    ys, xs = torch.meshgrid(torch.arange(h, device=x.device, dtype=torch.float64),
                            torch.arange(w, device=x.device, dtype=torch.float64), indexing="ij")
    points = torch.stack([xs, ys], -1).reshape(1, -1, 2)  # (1, H*W, 2) as (x, y)
    src = points @ linear_inv.transpose(1, 2) + offset_inv.transpose(1, 2)  # (N, H*W, 2)
    scale = torch.tensor([w - 1, h - 1], dtype=torch.float64, device=x.device)
    grid = (src / scale * 2 - 1).reshape(n, h, w, 2).float()
    work = F.grid_sample(work, grid, mode="bilinear", padding_mode="reflection", align_corners=True)
    if alpha > 0:
        noise = _uniform((n, 2, h, w), -1.0, 1.0, work, generator)
        shift = gaussian_filter(noise, sigma, truncate=3.0, mode="symmetric") * alpha  # (N, [dx, dy], H, W)
        moved = torch.stack([xs.float() + shift[:, 0], ys.float() + shift[:, 1]], -1)
        size = torch.tensor([w, h], dtype=torch.float32, device=x.device)
        grid = (moved + 0.5) / size * 2 - 1
        work = F.grid_sample(work, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return work.clamp(0, 1).to(x.dtype)
