"""The corruption registry and :func:`corrupt`, the one entry point."""

from __future__ import annotations

import difflib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..checks import check_images, check_int, check_severity

__all__ = ["CORRUPTIONS", "Corruption", "corrupt", "corrupt_at_level", "corruption_generator", "corruption_info",
           "corruption_level", "list_corruptions", "list_suites", "register_corruption", "register_suite",
           "resolve_corruptions"]


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


def corruption_level(name: str, severity: int) -> Any:
    """The parameter value of corruption ``name`` at ``severity`` (1-based), as its function gets it.

    >>> corruption_level("mnist_gaussian_noise", 1) == corruption_info("mnist_gaussian_noise").levels[0]
    True
    """
    info = corruption_info(name)
    return info.levels[check_severity(severity, info.severities, what=repr(name)) - 1]


def corruption_generator(seed: int, name: str, severity: int | None = None,
                         device: str | torch.device = "cpu") -> torch.Generator:
    """A generator seeded for ``(seed, corruption, severity)``: the same images get the same noise in
    every model's evaluation, figure and widget, and different corruptions get independent noise.

    >>> a, b = corruption_generator(0, "gaussian_noise", 3), corruption_generator(0, "gaussian_noise", 3)
    >>> bool(torch.equal(torch.rand(3, generator=a), torch.rand(3, generator=b)))
    True
    """
    seed = check_int(seed, "seed")
    key = f"{seed}/{name}" if severity is None else f"{seed}/{name}/{check_int(severity, 'severity')}"
    return torch.Generator(device=device).manual_seed(zlib.crc32(key.encode()))


def _check_generator(generator: torch.Generator | None, images: Tensor) -> None:
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if torch.device(generator.device).type != images.device.type:
        raise ValueError(f"generator is on {generator.device} but the images are on {images.device}; make it with "
                         f"torch.Generator(device={str(images.device)!r})")


def corrupt_at_level(images: Tensor, name: str, level: Any, generator: torch.Generator | None = None) -> Tensor:
    """Corrupt a batch at any parameter value ``level`` of the corruption (not only its grid).

    For a slider or a sweep over noise strength: ``corrupt_at_level(x, "mnist_gaussian_noise", 0.07)``
    adds noise of variance 0.07. Checks, dtype and device handling are those of :func:`corrupt`.

    Shape:
        - images: ``(N, C, H, W)``; output: the same.
    """
    info = corruption_info(name)
    check_images(images)
    _check_generator(generator, images)
    if images.shape[0] == 0:
        return images.clone()
    source_dtype = images.dtype
    x = images.float() / 255 if source_dtype == torch.uint8 else images
    y = info.function(x, level, generator).clamp(0, 1)
    if source_dtype == torch.uint8:
        # truncation mimics the CIFAR-10-C script; the small epsilon keeps exact k/255 values at k
        scaled = (y * 255 + 1e-3).floor() if info.truncate else (y * 255).round()
        return scaled.clamp(0, 255).to(torch.uint8)
    return y.to(source_dtype)


def corrupt(images: Tensor, name: str, severity: int, generator: torch.Generator | None = None) -> Tensor:
    """Corrupt a batch of images.

    Args:
        images: ``(N, C, H, W)``, float in [0, 1] or uint8, any device (no NaN or infinity).
        name: a registered corruption (:func:`list_corruptions`).
        severity: 1 .. number of levels of that corruption (a Python, NumPy or 0-d tensor integer).
        generator: a ``torch.Generator`` on the images' device, for reproducible noise
            (:func:`corruption_generator`).

    Returns:
        The corrupted images: same shape, dtype and device (uint8 is rounded back).

    Shape:
        - images: ``(N, C, H, W)``; output: the same.
    """
    return corrupt_at_level(images, name, corruption_level(name, severity), generator)
