"""Shared fixtures. Data comes only from the data root ($PUSHPULL_DATA, CI: ../shared/data)."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
REPO = Path(__file__).resolve().parents[1]

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _data_root() -> Path | None:
    root = os.environ.get("PUSHPULL_DATA") or str(REPO.parent / "shared" / "data")
    return Path(root) if Path(root).is_dir() else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = _data_root()
    if root is None:
        pytest.skip("no data root: set PUSHPULL_DATA (CI sets it to ../shared/data)")
    return root


@pytest.fixture(scope="session")
def official_checkpoints(data_root: Path) -> Path:
    folder = Path(os.environ.get("PUSHPULL_CHECKPOINTS", data_root.parent / "checkpoints" / "official"))
    if not (folder / "resnet-20" / "model_best.pth.tar").is_file():
        pytest.skip(f"the authors' checkpoints are not at {folder} (set PUSHPULL_CHECKPOINTS)")
    return folder


@pytest.fixture(autouse=True)
def _close_figures():
    """Every test starts and ends without open matplotlib figures."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    """Each device in turn; on CUDA with full float32 convolutions and products (TF32 off), so that
    the same tolerances hold as on the CPU (TF32 rounds to about 3e-4; tests/test_gpu.py checks it)."""
    if request.param != "cuda":
        yield torch.device(request.param)
        return
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield torch.device(request.param)
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def write_idx(root: Path, split: str, images: np.ndarray, labels: np.ndarray, packed: bool,
              folder: str = "MNIST") -> None:
    """Write an MNIST-layout data root (``<root>/<folder>/raw``, idx files, optionally ``.gz``)."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    prefix = "train" if split == "train" else "t10k"
    image_bytes = struct.pack(">IIII", 2051, *images.shape) + images.astype(np.uint8).tobytes()
    label_bytes = struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()
    for name, payload in ((f"{prefix}-images-idx3-ubyte", image_bytes), (f"{prefix}-labels-idx1-ubyte", label_bytes)):
        if packed:
            with gzip.open(raw / f"{name}.gz", "wb") as handle:
                handle.write(payload)
        else:
            (raw / name).write_bytes(payload)


def make_image_folder(root: Path, classes: int = 3, train_per_class: int = 12, val_per_class: int = 4,
                      size: int = 64, seed: int = 0) -> Path:
    """Write a tiny ImageNet-style tree ``root/{train,val}/<wnid>/<n>.JPEG``: one colour tint and one
    stripe direction per class, plus noise, so that a network can learn it in a few steps."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, count in (("train", train_per_class), ("val", val_per_class)):
        for c in range(classes):
            folder = root / split / f"n{c:08d}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                tint = np.zeros(3)
                tint[c % 3] = 80
                stripes = np.sin(np.arange(size) * (0.3 + 0.25 * c))[:, None] * 60
                image = 100 + tint[None, None, :] + (stripes if c % 2 else stripes.T)[:, :, None]
                image = image + rng.normal(0, 20, (size, size, 3))
                Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(folder / f"{split}_{i}.JPEG", quality=90)
    return root
