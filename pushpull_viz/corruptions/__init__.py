"""Corruptions: named, batched image corruptions on any device, with level grids.

``corrupt(images, name, severity, generator=None)`` takes images as a float tensor
``(N, C, H, W)`` in [0, 1] or as uint8 and returns the same shape, dtype and device.
``severity`` indexes the corruption's level grid, starting at 1.

Suites: the paper's MNIST noise suites (:mod:`.mnist`) and all 19 CIFAR-10-C corruptions
(:mod:`.cifar10c`, with the functions in :mod:`.cifar_noise`, :mod:`.cifar_blur`,
:mod:`.cifar_weather` and :mod:`.cifar_digital`, built from the batched filters of
:mod:`.filters`). :mod:`.released` reads the published CIFAR-10-C and MNIST-C files.

Example:
    >>> x = torch.full((2, 1, 28, 28), 0.5)
    >>> y = corrupt(x, "mnist_gaussian_noise", 3, generator=torch.Generator().manual_seed(0))
    >>> y.shape, y.dtype, bool((y >= 0).all() and (y <= 1).all())
    (torch.Size([2, 1, 28, 28]), torch.float32, True)
"""

from __future__ import annotations

from .registry import (CORRUPTIONS, Corruption, corruption_info, corrupt, list_corruptions, list_suites,
                       register_corruption, register_suite, resolve_corruptions)
from . import mnist  # noqa: F401  (registers the MNIST suites)
from .cifar10c import CIFAR10C_ALL, CIFAR10C_BENCHMARK, CIFAR10C_EXTRA, CIFAR10C_PARAMETERS  # registers them
from . import mnist_c  # noqa: F401  (registers the MNIST-C suite)
from .mnist_c import MNISTC_CORRUPTIONS
from .mnist import MNIST_SUITES, gaussian_noise_variance, poisson_contrast
from .released import MNISTC_ALL, RELEASED_ARCHIVES, ReleasedSuite, download_released, open_released

import torch  # noqa: E402  (for the doctest)

__all__ = [
    "CIFAR10C_ALL",
    "CIFAR10C_BENCHMARK",
    "CIFAR10C_EXTRA",
    "CIFAR10C_PARAMETERS",
    "CORRUPTIONS",
    "Corruption",
    "MNISTC_ALL",
    "MNISTC_CORRUPTIONS",
    "MNIST_SUITES",
    "RELEASED_ARCHIVES",
    "ReleasedSuite",
    "corrupt",
    "corruption_info",
    "download_released",
    "gaussian_noise_variance",
    "list_corruptions",
    "list_suites",
    "open_released",
    "poisson_contrast",
    "register_corruption",
    "register_suite",
    "resolve_corruptions",
]
