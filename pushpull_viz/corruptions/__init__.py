"""Corruptions: named, batched image corruptions on any device, with level grids.

``corrupt(images, name, severity, generator=None)`` takes images as a float tensor
``(N, C, H, W)`` in [0, 1] or as uint8 and returns the same shape, dtype and device.
``severity`` indexes the corruption's level grid, starting at 1.

Suites: the paper's MNIST noise suites (:mod:`.mnist`, ``"mnist"``), all 19 CIFAR-10-C
corruptions (:mod:`.cifar10c`, ``"cifar10-c"``, with the functions in :mod:`.cifar_noise`,
:mod:`.cifar_blur`, :mod:`.cifar_weather` and :mod:`.cifar_digital`, built from the batched
filters of :mod:`.filters`), the 15 MNIST-C corruptions (:mod:`.mnist_c`, ``"mnist-c"``, names
``mnistc_*``) and the 19 ImageNet-C corruptions at 224x224 (:mod:`.imagenet_c`, ``"imagenet-c"``,
names ``imagenetc_*``, the same functions with ImageNet parameters). Named subsets:
``"cifar10-c-benchmark"`` and ``"imagenet-c-benchmark"`` (the 15 benchmark corruptions each).
:mod:`.released` reads the published CIFAR-10-C and MNIST-C files.

Example:
    >>> import torch
    >>> x = torch.full((2, 1, 28, 28), 0.5)
    >>> y = corrupt(x, "mnist_gaussian_noise", 3, generator=torch.Generator().manual_seed(0))
    >>> y.shape, y.dtype, bool((y >= 0).all() and (y <= 1).all())
    (torch.Size([2, 1, 28, 28]), torch.float32, True)
"""

from __future__ import annotations

# ruff: noqa: I001  (the import order is the registration order: MNIST suites, CIFAR-10-C, MNIST-C, ImageNet-C)
from .registry import (CORRUPTIONS, Corruption, corrupt, corrupt_at_level, corruption_generator, corruption_info,
                       corruption_level, list_corruptions, list_suites, register_corruption, register_suite,
                       resolve_corruptions)
from .mnist import MNIST_SUITES, gaussian_noise_variance, poisson_contrast
from .cifar10c import CIFAR10C_ALL, CIFAR10C_BENCHMARK, CIFAR10C_EXTRA, CIFAR10C_PARAMETERS
from .mnist_c import MNISTC_CORRUPTIONS
from .imagenet_c import IMAGENETC_ALL, IMAGENETC_BENCHMARK, IMAGENETC_EXTRA, IMAGENETC_PARAMETERS
from .released import MNISTC_ALL, RELEASED_ARCHIVES, ReleasedSuite, download_released, open_released

__all__ = [
    "CIFAR10C_ALL",
    "CIFAR10C_BENCHMARK",
    "CIFAR10C_EXTRA",
    "CIFAR10C_PARAMETERS",
    "CORRUPTIONS",
    "Corruption",
    "IMAGENETC_ALL",
    "IMAGENETC_BENCHMARK",
    "IMAGENETC_EXTRA",
    "IMAGENETC_PARAMETERS",
    "MNISTC_ALL",
    "MNISTC_CORRUPTIONS",
    "MNIST_SUITES",
    "RELEASED_ARCHIVES",
    "ReleasedSuite",
    "corrupt",
    "corrupt_at_level",
    "corruption_generator",
    "corruption_info",
    "corruption_level",
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
