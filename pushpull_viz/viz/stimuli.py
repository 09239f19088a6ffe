"""Synthetic stimuli and a hand-made V1-like kernel for the intuition notebook.

Simple cells of the primary visual cortex respond to oriented edges and bars; a Gabor function
(an oriented cosine under a Gaussian window) is the classic model of their receptive field.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["edge_image", "gabor_kernel", "grating", "pushpull_from_kernel"]


def gabor_kernel(size: int = 7, theta: float = 0.0, wavelength: float = 6.0, sigma: float | None = None,
                 phase: float = 0.0) -> Tensor:
    """An oriented Gabor kernel, zero mean, unit L1 norm.

    Args:
        size: odd kernel size.
        theta: orientation in degrees (0: vertical stripes, i.e. it responds to vertical edges).
        wavelength: period of the cosine in pixels.
        sigma: Gaussian window width (default ``size / 4``).
        phase: cosine phase in degrees (90: an odd, edge-detecting kernel).

    Shape:
        Output ``(size, size)``.

    Example:
        >>> k = gabor_kernel(7, theta=0, phase=90)
        >>> k.shape, round(float(k.sum()), 6), round(float(k.abs().sum()), 6)
        (torch.Size([7, 7]), 0.0, 1.0)
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd integer, got {size}")
    if wavelength <= 0:
        raise ValueError(f"wavelength must be positive, got {wavelength}")
    sigma = size / 4 if sigma is None else sigma
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    t = torch.arange(size, dtype=torch.float64) - size // 2
    y, x = torch.meshgrid(t, t, indexing="ij")
    angle = math.radians(theta)
    along = x * math.cos(angle) + y * math.sin(angle)
    envelope = torch.exp(-(x**2 + y**2) / (2 * sigma**2))
    kernel = envelope * torch.cos(2 * math.pi * along / wavelength + math.radians(phase))
    kernel = kernel - kernel.mean()
    return (kernel / kernel.abs().sum().clamp_min(1e-12)).float()


def grating(size: int = 32, theta: float = 0.0, wavelength: float = 8.0, contrast: float = 1.0) -> Tensor:
    """A sinusoidal grating in [0, 1] around 0.5.

    Shape:
        Output ``(1, size, size)``.

    Example:
        >>> g = grating(16, wavelength=4)
        >>> g.shape, bool(g.min() >= 0 and g.max() <= 1)
        (torch.Size([1, 16, 16]), True)
    """
    if not 0 <= contrast <= 1:
        raise ValueError(f"contrast must be in [0, 1], got {contrast}")
    t = torch.arange(size, dtype=torch.float32)
    y, x = torch.meshgrid(t, t, indexing="ij")
    angle = math.radians(theta)
    along = x * math.cos(angle) + y * math.sin(angle)
    return (0.5 + 0.5 * contrast * torch.cos(2 * math.pi * along / wavelength))[None]


def edge_image(size: int = 32, theta: float = 0.0, low: float = 0.2, high: float = 0.8) -> Tensor:
    """A straight step edge through the centre (``low`` on one side, ``high`` on the other).

    Shape:
        Output ``(1, size, size)``.

    Example:
        >>> [round(v, 2) for v in edge_image(8)[0, 0].tolist()]
        [0.2, 0.2, 0.2, 0.2, 0.8, 0.8, 0.8, 0.8]
    """
    t = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    y, x = torch.meshgrid(t, t, indexing="ij")
    angle = math.radians(theta)
    side = x * math.cos(angle) + y * math.sin(angle) > 1e-6  # not > 0: cos(90 deg) is 6e-17, not 0
    return torch.where(side, torch.tensor(high), torch.tensor(low))[None]


def bar_image(size: int = 28, theta: float = 45.0, width: float = 3.0, length: float | None = None,
              low: float = 0.0, high: float = 1.0) -> Tensor:
    """A bright straight bar through the centre on a dark background, like a pen stroke of an MNIST
    digit: ``high`` within ``width / 2`` pixels of the bar's axis (at angle ``theta`` degrees from
    the x axis, y pointing down) and within ``length / 2`` of the centre along it (default: 60% of
    the image), ``low`` elsewhere, with a one-pixel linear ramp at its sides.

    Shape:
        Output ``(1, size, size)``.

    Example:
        >>> bar = bar_image(9, theta=0, width=1, length=5)
        >>> [round(v, 1) for v in bar[0, 4].tolist()], float(bar[0, 0, 4])
        ([0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0], 0.0)
    """
    length = 0.6 * size if length is None else length
    t = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    y, x = torch.meshgrid(t, t, indexing="ij")
    angle = math.radians(theta)
    along = x * math.cos(angle) + y * math.sin(angle)
    across = -x * math.sin(angle) + y * math.cos(angle)
    inside = (width / 2 + 0.5 - across.abs()).clamp(0, 1) * (length / 2 + 0.5 - along.abs()).clamp(0, 1)
    return (low + (high - low) * inside)[None]


def pushpull_from_kernel(kernel: Tensor, alpha: float | None = None, scale: float | None = None):
    """A one-channel :class:`~pushpull_viz.PushPull2d` whose push kernel is ``kernel``
    (``padding`` keeps the image size), and the plain ``nn.Conv2d`` with the same weights.
    ``alpha`` and ``scale`` default to the layer's (the paper's alpha = 1, h = 2).

    Shape:
        ``kernel``: ``(k, k)``, odd ``k``.

    Example:
        >>> pp, conv = pushpull_from_kernel(gabor_kernel(5))
        >>> pp(torch.rand(1, 1, 16, 16)).shape
        torch.Size([1, 1, 16, 16])
    """
    from torch import nn

    from ..layers import PushPull2d, given_options

    if kernel.dim() != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] % 2 == 0:
        raise ValueError(f"kernel must be a square (k, k) tensor with odd k, got shape {tuple(kernel.shape)}")
    size = kernel.shape[0]
    layer = PushPull2d(1, 1, size, padding=size // 2, **given_options(alpha=alpha, scale=scale))
    conv = nn.Conv2d(1, 1, size, padding=size // 2, bias=False)
    with torch.no_grad():
        layer.push.weight.copy_(kernel[None, None])
        conv.weight.copy_(kernel[None, None])
    return layer.eval(), conv.eval()
