"""CIFAR-10-C's noise corruptions in batched torch: gaussian, shot, impulse and speckle noise.

Each function takes float images ``(N, C, H, W)`` in [0, 1], the severity's parameter and an
optional ``torch.Generator``, and returns the same shape; :func:`~pushpull_viz.corruptions.corrupt`
handles uint8, checks the input and looks the parameters up (:mod:`.cifar10c`).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["gaussian_noise", "impulse_noise", "shot_noise", "speckle_noise"]


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
