"""Corruptions: named, batched image corruptions on any device, with level grids.

``corrupt(images, name, severity, generator=None)`` takes images as a float tensor
``(N, C, H, W)`` in [0, 1] or as uint8 and returns the same shape, dtype and device.
``severity`` indexes the corruption's level grid, starting at 1.

So far: the paper's MNIST suites (:mod:`.mnist`) and 11 of the 19 CIFAR-10-C corruptions
(:mod:`.cifar_noise_digital`: noise, gaussian and defocus blur, brightness, contrast, saturate,
pixelate, JPEG). Glass, motion and zoom blur, snow, frost, fog, spatter and elastic are not ported yet.

Example:
    >>> x = torch.full((2, 1, 28, 28), 0.5)
    >>> y = corrupt(x, "mnist_gaussian_noise", 3, generator=torch.Generator().manual_seed(0))
    >>> y.shape, y.dtype, bool((y >= 0).all() and (y <= 1).all())
    (torch.Size([2, 1, 28, 28]), torch.float32, True)
"""

from __future__ import annotations

from .registry import CORRUPTIONS, Corruption, corruption_info, corrupt, list_corruptions, register_corruption
from . import mnist  # noqa: F401  (registers the MNIST suites)
from . import cifar_noise_digital  # noqa: F401  (registers the CIFAR-10-C corruptions ported so far)
from .cifar10c import CIFAR10C_ALL, CIFAR10C_BENCHMARK, CIFAR10C_EXTRA
from .mnist import MNIST_SUITES, gaussian_noise_variance, poisson_contrast

import torch  # noqa: E402  (for the doctest)

__all__ = [
    "CIFAR10C_ALL",
    "CIFAR10C_BENCHMARK",
    "CIFAR10C_EXTRA",
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
