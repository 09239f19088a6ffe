"""CIFAR-10-C (Hendrycks & Dietterich, ICLR 2019): the 19 corruptions with their 32x32 parameters.

The functions live in :mod:`.cifar_noise`, :mod:`.cifar_blur`, :mod:`.cifar_weather` and
:mod:`.cifar_digital`; this module holds the published parameter table, the name lists used by
the metrics, and registers every corruption (suite ``"cifar10-c"``) with a note wherever it
departs from the reference script ``make_cifar_c.py``. Like that script (and so the released
files), uint8 results are truncated, not rounded: deliberate, so that statistics match the
published data.
"""

from __future__ import annotations

from . import cifar_blur, cifar_digital, cifar_noise, cifar_weather
from .registry import Corruption, register_corruption, register_suite

__all__ = ["CIFAR10C_ALL", "CIFAR10C_BENCHMARK", "CIFAR10C_EXTRA", "CIFAR10C_PARAMETERS"]

#: The 15 benchmark corruptions.
CIFAR10C_BENCHMARK = (
    "gaussian_noise", "shot_noise", "impulse_noise",
    "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "brightness",
    "contrast", "elastic_transform", "pixelate", "jpeg_compression",
)
#: The 4 extra ("validation") corruptions.
CIFAR10C_EXTRA = ("speckle_noise", "gaussian_blur", "spatter", "saturate")
#: All 19, as the push-pull paper averages them (parameter-table order).
CIFAR10C_ALL = (
    "gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise",
    "gaussian_blur", "glass_blur", "defocus_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "spatter", "brightness",
    "contrast", "saturate", "elastic_transform", "pixelate", "jpeg_compression",
)

_SIZE = 32  # elastic_transform's parameters are fractions of the image size
#: Severity 1..5 parameters for 32x32 images, from the reference script.
CIFAR10C_PARAMETERS = {
    "gaussian_noise": (0.04, 0.06, 0.08, 0.09, 0.10),
    "shot_noise": (500, 250, 100, 75, 50),
    "impulse_noise": (0.01, 0.02, 0.03, 0.05, 0.07),
    "speckle_noise": (0.06, 0.10, 0.12, 0.16, 0.20),
    "gaussian_blur": (0.4, 0.6, 0.7, 0.8, 1.0),
    "glass_blur": ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)),
    "defocus_blur": ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)),
    "motion_blur": ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)),
    "zoom_blur": cifar_blur.ZOOM_FACTORS,
    "snow": ((0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
             (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)),
    "frost": ((1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)),
    "fog": ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)),
    "spatter": ((0.62, 0.1, 0.7, 0.7, 0.5, 0), (0.65, 0.1, 0.8, 0.7, 0.5, 0), (0.65, 0.3, 1, 0.69, 0.5, 0),
                (0.65, 0.1, 0.7, 0.69, 0.6, 1), (0.65, 0.1, 0.5, 0.68, 0.6, 1)),
    "brightness": (0.05, 0.1, 0.15, 0.2, 0.3),
    "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),
    "saturate": ((0.3, 0), (0.1, 0), (1.5, 0), (2, 0.1), (2.5, 0.2)),
    "elastic_transform": tuple(tuple(_SIZE * v for v in level) for level in (
        (0, 0, 0.08), (0.05, 0.2, 0.07), (0.08, 0.06, 0.06), (0.1, 0.04, 0.05), (0.1, 0.03, 0.03))),
    "pixelate": (0.95, 0.9, 0.85, 0.75, 0.65),
    "jpeg_compression": (80, 65, 58, 50, 40),
}

_MODULES = (cifar_noise, cifar_blur, cifar_weather, cifar_digital)
_PARAMETER_NAMES = {
    "gaussian_noise": "noise sigma",
    "shot_noise": "photons c",
    "impulse_noise": "salt-and-pepper amount",
    "speckle_noise": "noise sigma",
    "gaussian_blur": "blur sigma",
    "glass_blur": "(sigma, max delta, iterations)",
    "defocus_blur": "(disk radius, alias sigma)",
    "motion_blur": "(radius, sigma)",
    "zoom_blur": "zoom factors",
    "snow": "(mean, std, zoom, threshold, blur radius, blur sigma, blend)",
    "frost": "(image weight, frost weight)",
    "fog": "(strength, wibble decay)",
    "spatter": "(mean, std, sigma, threshold, intensity, mode 0 water / 1 mud)",
    "brightness": "HSV value shift",
    "contrast": "contrast factor",
    "saturate": "HSV saturation (a, b)",
    "elastic_transform": "(alpha, sigma, affine jitter) in pixels",
    "pixelate": "down-scale factor",
    "jpeg_compression": "JPEG quality",
}
_NOTES = {
    "motion_blur": "a port of ImageMagick's motion blur (the script calls it through Wand)",
    "snow": "flakes blurred with the port of ImageMagick's motion blur",
    "frost": "needs the frost photographs of the imagecorruptions-imaug package",
    "spatter": "exact Euclidean distance instead of OpenCV's 5x5 chamfer; no-drop images stay unchanged",
    "elastic_transform": "full-precision resampling (OpenCV's warpAffine uses 1/32 pixel)",
    "pixelate": "Pillow's BOX filter as resampling matrices, without Pillow's 8-bit rounding between passes",
    "jpeg_compression": "libjpeg through torchvision.io on the CPU (the images Pillow makes)",
}

for _name in CIFAR10C_ALL:
    _function = next(getattr(m, _name) for m in _MODULES if hasattr(m, _name))
    register_corruption(Corruption(_name, _function, CIFAR10C_PARAMETERS[_name], _PARAMETER_NAMES[_name],
                                   "cifar10-c", _NOTES.get(_name, ""), truncate=True))
register_suite("cifar10-c-benchmark", CIFAR10C_BENCHMARK)
