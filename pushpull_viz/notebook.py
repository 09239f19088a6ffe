"""Small helpers the notebooks share (so no code is copy-pasted between them): the run mode,
the data root, and a line saying which mode and machine produced the outputs."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from .data import resolve_data_root

__all__ = ["notebook_settings", "official_checkpoint"]

MODES = ("quick", "full")
MODE_ENV = "PUSHPULL_MODE"
CHECKPOINTS_ENV = "PUSHPULL_CHECKPOINTS"


def notebook_settings(mode: str | None = None, data_root: str | None = None) -> dict:
    """The parameters every notebook starts from, and a description of this machine.

    Args:
        mode: ``"quick"`` (CPU, minutes, for a laptop and CI) or ``"full"`` (paper scale; a GPU
            is recommended). Default: ``$PUSHPULL_MODE``, else ``"quick"``.
        data_root: the data folder (``MNIST/raw``, ``cifar10-jpeg75``). Default:
            ``$PUSHPULL_DATA``; ``None`` means torchvision may download MNIST.

    Returns:
        ``{"mode", "quick", "data_root", "device", "machine"}``; ``machine`` is a one-line
        description to print at the top of the outputs.

    Example:
        >>> notebook_settings("quick")["quick"]
        True
    """
    mode = mode or os.environ.get(MODE_ENV, "quick")
    if mode not in MODES:
        raise ValueError(f"mode must be 'quick' or 'full', got {mode!r}")
    data_root = resolve_data_root(data_root, required=False)
    data_root = None if data_root is None else str(data_root)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    gpu = f", GPU {torch.cuda.get_device_name()}" if device == "cuda" else ", no GPU"
    machine = (f"mode={mode}; {platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores{gpu}; "
               f"torch {torch.__version__}; data root {data_root or '(none: torchvision download)'}")
    return {"mode": mode, "quick": mode == "quick", "data_root": data_root, "device": device, "machine": machine}


def official_checkpoint(name: str, data_root: str | None = None) -> Path | None:
    """Path of one of the authors' checkpoints (``resnet-20``, ``resnet-20-pp``, ``densenet-40-12``,
    ``densenet-40-12-pp``), or ``None`` if they are not on this machine.

    Looked up in ``$PUSHPULL_CHECKPOINTS``, else ``<data root>/../checkpoints/official``.

    Example:
        >>> official_checkpoint("no-such-model", data_root="/nonexistent") is None
        True
    """
    try:
        data_root = resolve_data_root(data_root, required=False)
    except FileNotFoundError:
        data_root = None
    folder = os.environ.get(CHECKPOINTS_ENV) or (str(data_root.parent / "checkpoints" / "official")
                                                 if data_root else None)
    if folder is None:
        return None
    path = Path(folder) / name / "model_best.pth.tar"
    return path if path.is_file() else None
