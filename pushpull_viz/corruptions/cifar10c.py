"""CIFAR-10-C names (Hendrycks & Dietterich 2019), in the order of the published parameter table.

The corruption functions themselves are being ported to torch; until a name is registered,
:func:`~pushpull_viz.corruptions.corrupt` rejects it. The name lists are used by the metrics.
"""

from __future__ import annotations

__all__ = ["CIFAR10C_ALL", "CIFAR10C_BENCHMARK", "CIFAR10C_EXTRA"]

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
