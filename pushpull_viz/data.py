"""Data: where datasets live, and readers for the offline copies.

Images leave this module as ``uint8`` tensors ``(N, C, H, W)``; models take float
images in [0, 1] (``images.float() / 255``) and normalise them themselves.

The data root comes from an argument or the ``PUSHPULL_DATA`` environment variable.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_JPEG75_LABEL",
    "DATA_ROOT_ENV",
    "resolve_data_root",
    "load_cifar10_jpeg75",
]

DATA_ROOT_ENV = "PUSHPULL_DATA"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
#: How results on the lossy offline copy must be labelled wherever they show up.
CIFAR10_JPEG75_LABEL = "CIFAR-10 (JPEG-75 copy)"


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$PUSHPULL_DATA``; it must exist."""
    if root is None:
        root = os.environ.get(DATA_ROOT_ENV)
        if not root:
            raise FileNotFoundError(
                f"no data root given: pass root=... or set {DATA_ROOT_ENV} to a folder holding the datasets "
                f"(for example: export {DATA_ROOT_ENV}=../shared/data)"
            )
    path = Path(root).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"data root {path} is not a directory (set by argument or ${DATA_ROOT_ENV})")
    return path


def load_cifar10_jpeg75(
    split: str = "test", root: str | os.PathLike | None = None, per_class: int | None = None
) -> tuple[Tensor, Tensor]:
    """Read the offline JPEG-75 copy of CIFAR-10 (``cifar10-jpeg75/cifar10-jpeg75.zip``).

    This is *not* CIFAR-10: its images went through JPEG at quality 75, which acts as a
    mild corruption. Label numbers measured on it with :data:`CIFAR10_JPEG75_LABEL`.

    Args:
        split: ``"train"`` (50,000 images) or ``"test"`` (10,000).
        root: data root holding ``cifar10-jpeg75/`` (default ``$PUSHPULL_DATA``).
        per_class: keep the first ``per_class`` files (in name order) of each class.

    Returns:
        ``(images, labels)``: ``uint8 (N, 3, 32, 32)`` and ``int64 (N,)``, classes in the
        usual CIFAR-10 order, files in name order within a class.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if per_class is not None and per_class < 1:
        raise ValueError(f"per_class must be a positive integer or None, got {per_class!r}")
    archive = resolve_data_root(root) / "cifar10-jpeg75" / "cifar10-jpeg75.zip"
    if not archive.is_file():
        raise FileNotFoundError(f"{archive} not found: the data root must hold cifar10-jpeg75/cifar10-jpeg75.zip")
    from PIL import Image

    images, labels = [], []
    with zipfile.ZipFile(archive) as zf:
        names = sorted(n for n in zf.namelist() if n.startswith(f"{split}/") and n.endswith(".jpg"))
        for label, cls in enumerate(CIFAR10_CLASSES):
            files = [n for n in names if n.split("/")[1] == cls][:per_class]
            for name in files:
                with Image.open(io.BytesIO(zf.read(name))) as img:
                    images.append(np.asarray(img.convert("RGB")))
            labels += [label] * len(files)
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return batch, torch.tensor(labels, dtype=torch.int64)
