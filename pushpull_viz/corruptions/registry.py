"""The corruption registry and :func:`corrupt`, the one entry point."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["CORRUPTIONS", "Corruption", "corrupt", "corruption_info", "list_corruptions", "register_corruption",
           "check_images", "list_suites", "register_suite", "resolve_corruptions"]


@dataclass(frozen=True)
class Corruption:
    """A named corruption: ``function(images_float01, level, generator) -> images_float01``.

    Attributes:
        levels: the parameter value at severity 1, 2, ... (what ``level`` the function gets).
        parameter: what the level means (e.g. ``"noise variance"``).
        suite: the suite it belongs to (``"mnist"``, ``"cifar10-c"``, ...).
        note: how it differs from the published recipe, if it does.
    """

    name: str
    function: Callable[[Tensor, float, torch.Generator | None], Tensor]
    levels: tuple
    parameter: str
    suite: str
    note: str = ""
    truncate: bool = False  # uint8 results truncated (as CIFAR-10-C's script did) instead of rounded

    @property
    def severities(self) -> tuple[int, ...]:
        return tuple(range(1, len(self.levels) + 1))


CORRUPTIONS: dict[str, Corruption] = {}


def register_corruption(corruption: Corruption) -> Corruption:
    if corruption.name in CORRUPTIONS:
        raise ValueError(f"corruption {corruption.name!r} is already registered")
    CORRUPTIONS[corruption.name] = corruption
    return corruption


def list_corruptions(suite: str | None = None) -> list[str]:
    """Registered corruption names, optionally of one suite, in registration order."""
    return [name for name, c in CORRUPTIONS.items() if suite is None or c.suite == suite]


_SUBSETS: dict[str, tuple[str, ...]] = {}


def register_suite(name: str, corruptions: tuple[str, ...]) -> None:
    """Name a subset of registered corruptions (e.g. CIFAR-10-C's 15 benchmark ones)."""
    for corruption in corruptions:
        corruption_info(corruption)
    _SUBSETS[name] = tuple(corruptions)


def list_suites() -> dict[str, tuple[str, ...]]:
    """Suite name -> its corruptions: every registered ``suite`` plus the named subsets."""
    suites: dict[str, tuple[str, ...]] = {}
    for name, corruption in CORRUPTIONS.items():
        suites[corruption.suite] = suites.get(corruption.suite, ()) + (name,)
    return {**suites, **_SUBSETS}


def resolve_corruptions(names) -> list[str]:
    """Expand suite names (:func:`list_suites`) and check corruption names, keeping order and
    dropping repeats; an unknown name raises ``ValueError`` listing suites and corruptions."""
    if isinstance(names, str):
        names = [names]
    suites = list_suites()
    resolved: list[str] = []
    for name in names:
        if name in suites:
            resolved += suites[name]
        elif name in CORRUPTIONS:
            resolved.append(name)
        else:
            close = difflib.get_close_matches(str(name), [*suites, *CORRUPTIONS], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown corruption or suite {name!r}.{hint} Suites: {', '.join(suites)}; "
                             f"corruptions: {', '.join(CORRUPTIONS)}")
    return list(dict.fromkeys(resolved))


def corruption_info(name: str) -> Corruption:
    """The registry entry; an unknown name raises ``ValueError`` listing the valid ones."""
    if name not in CORRUPTIONS:
        close = difflib.get_close_matches(str(name), list(CORRUPTIONS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown corruption {name!r}.{hint} Valid names: {', '.join(CORRUPTIONS)}")
    return CORRUPTIONS[name]


def check_images(images: Tensor, argument: str = "images") -> None:
    """Images must be ``(N, C, H, W)`` with 1 or 3 channels, uint8 or floating point in [0, 1]."""
    if not isinstance(images, Tensor):
        raise TypeError(f"{argument} must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"{argument} must be (N, C, H, W) with C = 1 or 3, got shape {tuple(images.shape)}")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise ValueError(f"{argument} must be uint8 or floating point, got {images.dtype}")
    if images.is_floating_point() and images.numel():
        low, high = images.min().item(), images.max().item()
        if low < 0 or high > 1:
            raise ValueError(f"float {argument} must lie in [0, 1] (found values in [{low:.3g}, {high:.3g}]); "
                             "pass uint8 images or divide by 255")


def corrupt(images: Tensor, name: str, severity: int, generator: torch.Generator | None = None) -> Tensor:
    """Corrupt a batch of images.

    Args:
        images: ``(N, C, H, W)``, float in [0, 1] or uint8, any device.
        name: a registered corruption (:func:`list_corruptions`).
        severity: 1 .. number of levels of that corruption.
        generator: a ``torch.Generator`` on the images' device, for reproducible noise.

    Returns:
        The corrupted images: same shape, dtype and device (uint8 is rounded back).
    """
    info = corruption_info(name)
    if isinstance(severity, bool) or not isinstance(severity, int) or severity not in info.severities:
        raise ValueError(f"severity of {name!r} must be an integer in 1..{len(info.levels)}, got {severity!r}")
    check_images(images)
    source_dtype = images.dtype
    x = images.float() / 255 if source_dtype == torch.uint8 else images
    y = info.function(x, info.levels[severity - 1], generator).clamp(0, 1)
    if source_dtype == torch.uint8:
        # truncation mimics the CIFAR-10-C script; the small epsilon keeps exact k/255 values at k
        scaled = (y * 255 + 1e-3).floor() if info.truncate else (y * 255).round()
        return scaled.clamp(0, 255).to(torch.uint8)
    return y.to(source_dtype)
