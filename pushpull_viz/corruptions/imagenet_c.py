"""ImageNet-C (Hendrycks & Dietterich, ICLR 2019): the 19 corruptions with their 224x224 parameters.

Registered as suite ``"imagenet-c"`` under the names ``imagenetc_<name>`` (CIFAR-10-C uses the
bare names and MNIST-C ``mnistc_``, so the suite is always explicit), with the subset
``"imagenet-c-benchmark"`` (the 15 benchmark corruptions, :data:`IMAGENETC_BENCHMARK`) and the 4
extra ones (:data:`IMAGENETC_EXTRA`). Same call as every corruption::

    corrupt(images, "imagenetc_fog", 3, generator)

The recipe is the published one, ``make_imagenet_c.py`` (github.com/hendrycks/robustness), with
its parameter table (:data:`IMAGENETC_PARAMETERS`), built from the same batched torch functions
as CIFAR-10-C (:mod:`.cifar_noise`, :mod:`.cifar_blur`, :mod:`.cifar_weather`,
:mod:`.cifar_digital`): only the parameters differ, plus full-size frost photographs. It runs on
any device, draws every random number from the ``generator``, and works on whole batches (on a
CPU, batches of 16-32 images of 224x224 were fastest per image; batches of 100 spent much of
their time allocating memory).

uint8: results are truncated, not rounded, as the script's ``np.uint8(...)`` did, except
``pixelate``, whose script result is a Pillow image (rounded by Pillow) and is rounded here.
The released ImageNet-C files were then also stored as JPEG at quality 85; that storage step is
not part of the corruption and is not applied.

Image size. 224x224 (ImageNet's ``Resize(256)`` + ``CenterCrop(224)``) is the reference size, at
which every parameter is the published one. Other sizes (at least 16x16) work as follows:

* fractions of the size scale with it: ``zoom_blur``'s zooms, ``pixelate``'s factor, ``snow``'s
  flake zoom, and ``elastic_transform``, whose pixel parameters (the script's ``244 * f``, a
  typo for 224 kept as published) are multiplied by ``min(H, W) / 224``;
* pixel-sized parameters do not scale: blur sigmas and radii (Gaussian, glass, defocus, motion,
  the snow flakes' motion blur), glass blur's shifts and spatter's blob sigma, as in the
  ``imagecorruptions`` package;
* ``fog`` uses the top-left corner of a plasma map of the next power of two >= ``max(H, W)`` (256
  for 224, as the script);
* ``frost`` crops the full-size photographs, so images must be smaller than the smallest of them
  (under 315 rows and 527 columns); larger images raise ``ValueError`` naming that size.

Fidelity: ``tests/test_imagenet_c.py`` compares every corruption and severity with the
``imagecorruptions`` package (``imagecorruptions-imaug``, a maintained fork of the script) on 224x224
photographs, by mean absolute change and PSNR; where that package departs from the script
(``elastic_transform``, ``frost``), the test compares with a transcription of the script instead.
Measured gaps are in ``docs/benchmarks.md`` ("ImageNet-C at 224x224"); each registry ``note`` says
what stands in for the script's ImageMagick and Python-loop steps.

Example:
    >>> import torch
    >>> from pushpull_viz.corruptions import corrupt
    >>> x = torch.rand(2, 3, 224, 224)
    >>> y = corrupt(x, "imagenetc_fog", 3, torch.Generator().manual_seed(0))
    >>> y.shape, bool((y >= 0).all() and (y <= 1).all())
    (torch.Size([2, 3, 224, 224]), True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor

from . import cifar_blur, cifar_digital, cifar_noise, cifar_weather
from .cifar10c import _PARAMETER_NAMES as _CIFAR_PARAMETER_NAMES
from .cifar10c import CIFAR10C_ALL, CIFAR10C_BENCHMARK, CIFAR10C_EXTRA
from .registry import Corruption, register_corruption, register_suite

__all__ = ["IMAGENETC_ALL", "IMAGENETC_BENCHMARK", "IMAGENETC_EXTRA", "IMAGENETC_PARAMETERS", "MIN_SIZE", "PREFIX",
           "REFERENCE_SIZE", "elastic_transform", "frost"]

#: The size the published parameters are for (``Resize(256)`` + ``CenterCrop(224)``).
REFERENCE_SIZE = 224
#: The smallest height and width accepted.
MIN_SIZE = 16
#: The registry names' prefix: ``imagenetc_<name>``.
PREFIX = "imagenetc_"

#: The 15 benchmark corruptions (registry names).
IMAGENETC_BENCHMARK = tuple(PREFIX + name for name in CIFAR10C_BENCHMARK)
#: The 4 extra ("validation") corruptions.
IMAGENETC_EXTRA = tuple(PREFIX + name for name in CIFAR10C_EXTRA)
#: All 19, in the parameter-table order of :data:`~.cifar10c.CIFAR10C_ALL`.
IMAGENETC_ALL = tuple(PREFIX + name for name in CIFAR10C_ALL)

#: Severity 1..5 parameters for 224x224 images, from ``make_imagenet_c.py`` (keyed by the script's names).
IMAGENETC_PARAMETERS = {
    "gaussian_noise": (0.08, 0.12, 0.18, 0.26, 0.38),
    "shot_noise": (60, 25, 12, 5, 3),
    "impulse_noise": (0.03, 0.06, 0.09, 0.17, 0.27),
    "speckle_noise": (0.15, 0.2, 0.35, 0.45, 0.6),
    "gaussian_blur": (1, 2, 3, 4, 6),
    "glass_blur": ((0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)),
    "defocus_blur": ((3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)),
    "motion_blur": ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15)),
    # np.arange(1, 1.11, 0.01) etc., float quirks included (12, 16, 11, 13 and 11 factors)
    "zoom_blur": tuple(cifar_blur.zoom_factors(stop, step) for stop, step in
                       ((1.11, 0.01), (1.16, 0.01), (1.21, 0.02), (1.26, 0.02), (1.31, 0.03))),
    "snow": ((0.1, 0.3, 3, 0.5, 10, 4, 0.8), (0.2, 0.3, 2, 0.5, 12, 4, 0.7), (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
             (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65), (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55)),
    "frost": ((1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)),
    "fog": ((1.5, 2), (2.0, 2), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4)),
    "spatter": ((0.65, 0.3, 4, 0.69, 0.6, 0), (0.65, 0.3, 3, 0.68, 0.6, 0), (0.65, 0.3, 2, 0.68, 0.5, 0),
                (0.65, 0.3, 1, 0.65, 1.5, 1), (0.67, 0.4, 1, 0.65, 1.5, 1)),
    "brightness": (0.1, 0.2, 0.3, 0.4, 0.5),
    "contrast": (0.4, 0.3, 0.2, 0.1, 0.05),
    "saturate": ((0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)),
    # (alpha, sigma, affine jitter) in pixels at 224x224; "244 should have been 224" (the script's comment)
    "elastic_transform": tuple(tuple(244 * f for f in level) for level in (
        (2, 0.7, 0.1), (2, 0.08, 0.2), (0.05, 0.01, 0.02), (0.07, 0.01, 0.02), (0.12, 0.01, 0.02))),
    "pixelate": (0.6, 0.5, 0.4, 0.3, 0.25),
    "jpeg_compression": (25, 18, 15, 10, 7),
}


def elastic_transform(x: Tensor, level: tuple, generator: torch.Generator | None = None) -> Tensor:
    """The script's elastic transform (:func:`.cifar_digital.elastic_transform`) with its
    224x224 pixel parameters scaled by ``min(H, W) / 224`` (unchanged at 224x224).

    Args:
        x: float images in [0, 1].
        level: ``(alpha, sigma, affine jitter)`` in pixels at 224x224.
        generator: for the affine jitter and the displacement noise.

    Shape:
        - x: ``(N, C, H, W)``; output: the same.
    """
    scale = min(x.shape[-2:]) / REFERENCE_SIZE
    if scale != 1:
        level = tuple(value * scale for value in level)
    return cifar_digital.elastic_transform(x, level, generator)


def frost(x: Tensor, level: tuple, generator: torch.Generator | None = None) -> Tensor:
    """``a * image + b * frost`` with a random crop of one of the five full-size frost
    photographs per image (:func:`.cifar_weather.frost` with ``photo_scale=1``).

    Args:
        x: RGB float images in [0, 1], smaller than 315x527.
        level: ``(a, b)``, the image and frost weights.
        generator: for the photograph and the crop corner.

    Shape:
        - x: ``(N, 3, H, W)``; output: the same.
    """
    return cifar_weather.frost(x, level, generator, photo_scale=1)


def _sized(function: Callable, name: str) -> Callable:
    """``function`` with a check that images are at least :data:`MIN_SIZE` pixels on each side."""

    @functools.wraps(function)
    def checked(x: Tensor, level, generator: torch.Generator | None = None) -> Tensor:
        h, w = x.shape[-2:]
        if h < MIN_SIZE or w < MIN_SIZE:
            raise ValueError(f"{name} needs images of at least {MIN_SIZE}x{MIN_SIZE} pixels "
                             f"({REFERENCE_SIZE}x{REFERENCE_SIZE} is the reference size), got {h}x{w}")
        return function(x, level, generator)

    return checked


_LOCAL = {"elastic_transform": elastic_transform, "frost": frost}
_MODULES = (cifar_noise, cifar_blur, cifar_weather, cifar_digital)
_PARAMETER_NAMES = {**_CIFAR_PARAMETER_NAMES,
                    "elastic_transform": "(alpha, sigma, affine jitter) in pixels at 224x224, scaled with the size",
                    "frost": "(image weight, frost weight), full-size photographs"}
_IMAGEMAGICK = "ImageMagick's motion blur (the script calls it through Wand)"
_NOTES = {
    "glass_blur": "the script's pixel loop (Python in make_imagenet_c.py, numba in imagecorruptions) computed in "
                  "parallel with the same result: its sequential copies are followed by pointer jumping "
                  "(cifar_blur._follow_copies, checked against the literal loop in the tests)",
    "motion_blur": f"a torch port of {_IMAGEMAGICK}, the same kernel as imagecorruptions' numpy stand-in; no "
                   "8-bit rounding of the result before the uint8 cast",
    "snow": f"flakes blurred with the torch port of {_IMAGEMAGICK}, truncated to 8 bits before and rounded after "
            "as the script's PNG round trips (imagecorruptions blurs the flakes unrounded)",
    "frost": "the five full-size photographs as the script (imagecorruptions draws from six and enlarges them by "
             "1.1 with bicubic interpolation); needs the imagecorruptions-imaug package; images under 315x527",
    "spatter": "exact Euclidean distance instead of OpenCV's 5x5 chamfer; no-drop images stay unchanged "
               "(the script divides 0 by 0)",
    "elastic_transform": "the script's recipe and parameters (imagecorruptions replaced it by an affine-free one "
                         "with other parameters); full-precision resampling (OpenCV's warpAffine uses 1/32 pixel)",
    "pixelate": "Pillow's BOX filter down and up as resampling matrices; uint8 output rounded as Pillow's is "
                "(Pillow also rounds between the two passes)",
    "jpeg_compression": "libjpeg through torchvision.io on the CPU (the images Pillow makes)",
}

for _name in CIFAR10C_ALL:
    _function = _LOCAL.get(_name) or next(getattr(m, _name) for m in _MODULES if hasattr(m, _name))
    register_corruption(Corruption(PREFIX + _name, _sized(_function, PREFIX + _name), IMAGENETC_PARAMETERS[_name],
                                   _PARAMETER_NAMES[_name], "imagenet-c", _NOTES.get(_name, ""),
                                   truncate=_name != "pixelate"))
register_suite("imagenet-c-benchmark", IMAGENETC_BENCHMARK)
