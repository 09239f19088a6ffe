"""RGB <-> HSV for batches of float images in [0, 1] (hue in [0, 1), as scikit-image's rgb2hsv),
and the channel check of the colour corruptions."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["hsv_to_rgb", "needs_rgb", "rgb_to_hsv"]


def rgb_to_hsv(rgb: Tensor) -> Tensor:
    """``(N, 3, H, W)`` RGB -> HSV, each channel in [0, 1]."""
    r, g, b = rgb.unbind(1)
    value, _ = rgb.max(1)
    chroma = value - rgb.min(1).values
    saturation = torch.where(value > 0, chroma / value.clamp_min(1e-12), torch.zeros_like(value))
    safe = chroma.clamp_min(1e-12)
    hue = torch.where(value == r, ((g - b) / safe) % 6,
                      torch.where(value == g, (b - r) / safe + 2, (r - g) / safe + 4))
    hue = torch.where(chroma > 0, hue / 6, torch.zeros_like(hue)) % 1.0
    return torch.stack([hue, saturation, value], 1)


def hsv_to_rgb(hsv: Tensor) -> Tensor:
    """``(N, 3, H, W)`` HSV -> RGB."""
    hue, saturation, value = hsv.unbind(1)
    h6 = (hue % 1.0) * 6
    sector = h6.floor()
    f = h6 - sector
    p = value * (1 - saturation)
    q = value * (1 - f * saturation)
    t = value * (1 - (1 - f) * saturation)
    sector = sector.long() % 6
    choices = torch.stack([
        torch.stack([value, t, p], 1), torch.stack([q, value, p], 1), torch.stack([p, value, t], 1),
        torch.stack([p, q, value], 1), torch.stack([t, p, value], 1), torch.stack([value, p, q], 1),
    ], 0)  # (6, N, 3, H, W)
    index = sector[None, :, None].expand(1, -1, 3, -1, -1)
    return choices.gather(0, index)[0]


def needs_rgb(x: Tensor, name: str) -> None:
    """Colour corruptions need RGB input; say so instead of failing inside."""
    if x.shape[1] != 3:
        raise ValueError(f"{name} works on RGB images (3 channels), got {x.shape[1]}")
