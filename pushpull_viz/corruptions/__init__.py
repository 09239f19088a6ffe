"""Corruptions: named, batched image corruptions on any device, with level grids.

``corrupt(images, name, severity, generator=None)`` takes images as a float tensor
``(N, C, H, W)`` in [0, 1] or as uint8 and returns the same shape, dtype and device.
``severity`` indexes the corruption's level grid, starting at 1.

So far: the paper's MNIST suites (:mod:`.mnist`). The CIFAR-10-C corruptions come next.

Example:
    >>> x = torch.full((2, 1, 28, 28), 0.5)
    >>> y = corrupt(x, "mnist_gaussian_noise", 3, generator=torch.Generator().manual_seed(0))
    >>> y.shape, y.dtype, bool((y >= 0).all() and (y <= 1).all())
    (torch.Size([2, 1, 28, 28]), torch.float32, True)
"""

from __future__ import annotations

from .registry import CORRUPTIONS, Corruption, corruption_info, corrupt, list_corruptions, register_corruption
from . import mnist  # noqa: F401  (registers the MNIST suites)
from .mnist import MNIST_SUITES, gaussian_noise_variance, poisson_contrast

import torch  # noqa: E402  (for the doctest)

__all__ = [
    "CORRUPTIONS",
    "Corruption",
    "MNIST_SUITES",
    "corrupt",
    "corruption_info",
    "gaussian_noise_variance",
    "list_corruptions",
    "poisson_contrast",
    "register_corruption",
]
