"""Shared fixtures. Data comes only from the data root ($PUSHPULL_DATA, CI: ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
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
    return torch.device(request.param)
