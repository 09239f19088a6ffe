"""Shared argument checks: one definition of each, one clear line per bad input.

Every public function of the package checks its arguments with these (in the spirit of
kornia's ``KORNIA_CHECK_*``): a wrong type raises ``TypeError``, a wrong value ``ValueError``,
and the message names the argument, the expected form and what was given. This module is the
bottom of the package: it imports nothing from it.

Example:
    >>> check_alpha(0.5)
    0.5
    >>> check_scale(0.5)
    Traceback (most recent call last):
    ...
    ValueError: scale (h, pull/push kernel size ratio) must be a finite number >= 1, got 0.5
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "as_images",
    "check_alpha",
    "check_channels",
    "check_conv_input",
    "check_finite",
    "check_images",
    "check_int",
    "check_int_pair",
    "check_number",
    "check_scale",
    "check_severity",
]


def _integral(value: Any) -> int | None:
    """``value`` as a Python int if it is an integer (Python, NumPy or a 0-d integer tensor), else None."""
    if type(value) is int:  # the common case, first (checks run on every forward pass)
        return value
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return None
    if isinstance(value, Tensor):
        if value.dim() != 0 or value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
            return None
        return int(value.item())
    if isinstance(value, numbers.Integral):
        return int(value)
    return None


def check_int(value: Any, name: str, minimum: int | None = None) -> int:
    """An integer (Python, NumPy or 0-d tensor) ``>= minimum``, as a Python int.

    >>> check_int(np.int64(3), "batch_size", 1)
    3
    """
    result = _integral(value)
    if result is None:
        bound = f" >= {minimum}" if minimum is not None else ""
        raise TypeError(f"{name} must be an integer{bound}, got {value!r}")
    if minimum is not None and result < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {result}")
    return result


def check_int_pair(value: Any, name: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each ``>= minimum``, as a pair (the ``nn.Conv2d`` convention).

    >>> check_int_pair(3, "kernel_size", 1), check_int_pair((3, 5), "kernel_size", 1)
    ((3, 3), (3, 5))
    """
    single = _integral(value)
    if single is not None:
        pair = (single, single)
    elif isinstance(value, (tuple, list, torch.Size)) and len(value) == 2 and all(
            _integral(v) is not None for v in value):
        pair = tuple(_integral(v) for v in value)
    else:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair  # type: ignore[return-value]


def check_number(value: Any, name: str, minimum: float | None = None, meaning: str = "") -> float:
    """A finite real number (``>= minimum``), as a Python float; 0-d tensors and NumPy scalars count.

    >>> check_number(np.float32(0.25), "noise_level", 0.0)
    0.25
    """
    if type(value) is float and math.isfinite(value) and (minimum is None or value >= minimum):
        return value  # the common case, first
    what = f"{name} ({meaning})" if meaning else name
    bound = f" >= {minimum:g}" if minimum is not None else ""
    if isinstance(value, Tensor) and value.dim() == 0 and (value.is_floating_point() or _integral(value) is not None):
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number{bound}, got {value!r}")
    result = float(value)
    if not math.isfinite(result) or (minimum is not None and result < minimum):
        raise ValueError(f"{what} must be a finite number{bound}, got {result!r}")
    return result


def check_alpha(alpha: Any, name: str = "alpha") -> float | Tensor:
    """The inhibition strength: a finite number >= 0, or a per-channel tensor (a learned alpha).

    Numbers come back as Python floats. A tensor is returned as it is; it must be floating
    point and, unless it is a trainable ``nn.Parameter`` (which the layer clamps at 0 and which
    must not cost a device synchronisation per step), finite and >= 0.

    >>> check_alpha(1)
    1.0
    >>> check_alpha(torch.tensor(float("nan")))
    Traceback (most recent call last):
    ...
    ValueError: alpha (inhibition strength) must be finite and >= 0, got a tensor holding nan
    """
    if isinstance(alpha, Tensor) and alpha.dim() > 0 or isinstance(alpha, torch.nn.Parameter):
        if not alpha.is_floating_point():
            raise TypeError(f"{name} (inhibition strength) must be a floating-point tensor, got {alpha.dtype}")
        if not isinstance(alpha, torch.nn.Parameter) and alpha.numel():
            bad = alpha.detach()[~(torch.isfinite(alpha.detach()) & (alpha.detach() >= 0))]
            if bad.numel():
                raise ValueError(f"{name} (inhibition strength) must be finite and >= 0, "
                                 f"got a tensor holding {bad.flatten()[0].item():g}")
        return alpha
    if isinstance(alpha, Tensor):  # a 0-d tensor: one number
        if not alpha.is_floating_point() and _integral(alpha) is None:
            raise TypeError(f"{name} (inhibition strength) must be a number >= 0, got {alpha!r}")
        value = alpha.item()
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} (inhibition strength) must be finite and >= 0, got a tensor holding {value:g}")
        return float(value)
    return check_number(alpha, name, 0.0, "inhibition strength")


def check_scale(scale: Any, name: str = "scale") -> float:
    """``h``, the size ratio of the pull kernel to the push kernel: a finite number >= 1."""
    return check_number(scale, name, 1.0, "h, pull/push kernel size ratio")


def check_severity(severity: Any, severities: Sequence[int], name: str = "severity", what: str = "") -> int:
    """A severity in ``severities`` (integers from Python, NumPy or a 0-d tensor), as a Python int.

    >>> check_severity(np.int64(3), (1, 2, 3, 4, 5))
    3
    """
    value = _integral(severity)
    of = f" of {what}" if what else ""
    if value is None or value not in severities:
        low, high = min(severities), max(severities)
        raise ValueError(f"{name}{of} must be an integer in {low}..{high}, got {severity!r}")
    return value


def check_channels(channels: Any, available: int, default_max: int | None = None,
                   argument: str = "channels") -> list[int]:
    """A selection of output channels: None -> the first ``default_max`` (or all), int -> ``[int]``.

    >>> check_channels(None, 16, default_max=4), check_channels(2, 16)
    ([0, 1, 2, 3], [2])
    """
    if channels is None:
        return list(range(available if default_max is None else min(default_max, available)))
    single = _integral(channels)
    if single is not None:
        channels = [single]
    elif isinstance(channels, Tensor):
        channels = channels.flatten().tolist()
    elif isinstance(channels, (bool, str, bytes)) or not isinstance(channels, (Sequence, range, np.ndarray)):
        raise TypeError(f"{argument} must be an int, a sequence of ints or None, got {channels!r}")
    channels = list(channels)
    if not channels:
        raise ValueError(f"{argument} must not be empty (the layer has {available} output channels)")
    result = []
    for c in channels:
        value = _integral(c)
        if value is None:
            raise TypeError(f"{argument} must hold integers, got {c!r}")
        if not 0 <= value < available:
            raise ValueError(f"{argument} must lie in 0..{available - 1} (the layer's output channels), got {value}")
        result.append(value)
    return result


def check_finite(tensor: Tensor, argument: str) -> None:
    """Refuse NaN and infinite values: they would spread through filters or turn into numbers."""
    if tensor.is_floating_point() and tensor.numel() and not bool(torch.isfinite(tensor).all()):
        count = int((~torch.isfinite(tensor)).sum())
        raise ValueError(f"{argument} holds {count} NaN or infinite value(s); images must be finite "
                         "(uint8, or float in [0, 1])")


def check_images(images: Any, argument: str = "images") -> None:
    """A batch ``(N, C, H, W)`` with 1 or 3 channels, uint8 or floating point in [0, 1] (finite).

    >>> check_images(torch.full((1, 1, 2, 2), float("nan")))
    Traceback (most recent call last):
    ...
    ValueError: images holds 4 NaN or infinite value(s); images must be finite (uint8, or float in [0, 1])
    """
    if not isinstance(images, Tensor):
        raise TypeError(f"{argument} must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"{argument} must be (N, C, H, W) with C = 1 or 3, got shape {tuple(images.shape)}")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise ValueError(f"{argument} must be uint8 or floating point, got {images.dtype}")
    if images.is_floating_point():
        _check_unit_range(images, argument)


def as_images(images: Any, argument: str = "images", *, channels: int | None = None, single: bool = False,
              check_range: bool = True, allow_empty: bool = False,
              consumer: str = "the layer") -> tuple[Tensor, bool]:
    """Images as a float batch ``(N, C, H, W)`` in [0, 1], and whether the input had a batch dimension.

    Accepts a tensor or a NumPy array, ``(H, W)`` (one grey image), ``(C, H, W)`` or ``(N, C, H, W)``,
    uint8 (divided by 255) or floating point in [0, 1] (checked unless ``check_range=False``).
    The result is detached, on the input's device, in the input's floating dtype (float32 for uint8).

    Args:
        channels: the channel count the consumer expects (``C``), if it has one.
        consumer: who expects them, for the message (``"the layer"``).
        single: exactly one image (``N == 1``).
        allow_empty: accept ``N == 0``.

    Shape:
        - images: ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; result ``(N, C, H, W)``.

    Example:
        >>> x, batched = as_images(torch.zeros(28, 28, dtype=torch.uint8))
        >>> tuple(x.shape), x.dtype, batched
        ((1, 1, 28, 28), torch.float32, False)
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, Tensor):
        raise TypeError(f"{argument} must be a torch.Tensor or NumPy array of shape (C, H, W) or (N, C, H, W), "
                        f"got {type(images).__name__}")
    shape = tuple(images.shape)
    if images.dim() not in (2, 3, 4) or (single and images.dim() == 4 and shape[0] != 1):
        if single:
            raise ValueError(f"{argument} must be one image of shape (C, H, W), (H, W) or (1, C, H, W) with "
                             f"C = 1 or 3, got shape {shape}")
        raise ValueError(f"{argument} must have shape (C, H, W) or (N, C, H, W), got shape {shape}")
    batched = images.dim() == 4
    x = images if batched else images[None] if images.dim() == 3 else images[None, None]
    hint = " (channels last? use image.permute(2, 0, 1))" if shape[-1] in (1, 3) and x.shape[1] not in (1, 3) else ""
    if x.shape[1] not in (1, 3) and channels is None:
        raise ValueError(f"{argument} must have 1 or 3 channels first, (C, H, W), got shape {shape}{hint}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{argument} has {x.shape[1]} channel(s) (shape {shape}) but {consumer} expects "
                         f"in_channels={channels}: shape (C, H, W) or (N, C, H, W) with C={channels}{hint}")
    if x.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{argument} holds no images (shape {shape})")
    if x.dtype == torch.uint8:
        return x.detach().float() / 255, batched
    if not x.is_floating_point():
        raise TypeError(f"{argument} must be uint8 or floating point (in [0, 1]) images, got {x.dtype}")
    x = x.detach()
    if check_range:
        _check_unit_range(x, argument)
    else:
        check_finite(x, argument)
    return x, batched


def _check_unit_range(images: Tensor, argument: str) -> None:
    """Float images: finite, and in [0, 1]."""
    if not images.numel():
        return
    check_finite(images, argument)
    low, high = images.min().item(), images.max().item()
    if low < 0 or high > 1:
        raise ValueError(f"float {argument} must lie in [0, 1] (found values in [{low:.3g}, {high:.3g}]); "
                         "pass uint8 images or divide by 255")


def check_conv_input(input: Any, weight: Tensor, groups: int = 1) -> None:
    """A convolution's input: a floating-point ``(N, C_in, H, W)`` tensor matching ``weight``
    ``(C_out, C_in / groups, kh, kw)``."""
    if not isinstance(weight, Tensor) or weight.dim() != 4:
        shape = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"weight must have shape (C_out, C_in / groups, kh, kw), got {shape}")
    in_channels = weight.shape[1] * groups
    if not isinstance(input, Tensor):
        raise TypeError(f"input must be a torch.Tensor of shape (N, C, H, W), got {type(input).__name__}")
    if input.dim() != 4:
        raise ValueError(f"input must have shape (N, C, H, W) with C={in_channels}, got a {input.dim()}-D tensor "
                         f"of shape {tuple(input.shape)}")
    if input.shape[1] != in_channels:
        raise ValueError(f"input has {input.shape[1]} channels but the layer expects in_channels={in_channels} "
                         f"(input shape {tuple(input.shape)})")
    if not input.is_floating_point():
        raise TypeError(f"input must be a floating-point tensor, got {input.dtype}; convert images first, "
                        "e.g. images.float() / 255")
