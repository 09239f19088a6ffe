"""Small pretrained weights shipped inside the package, trained by this project with its own CLI.

Each file in ``pushpull_viz/weights/`` is a weights-only checkpoint (loadable with
``torch.load(..., weights_only=True)``) holding the model's build configuration, its state dict
and a model card (data, recipe, seed, metrics, the commands that made it). The cards are also
written to ``weights/README.md``. Nothing is downloaded from a hub.

Example:
    >>> from pushpull_viz.pretrained import list_pretrained, load_pretrained
    >>> "lenet-a-pp" in list_pretrained()
    True
    >>> model = load_pretrained("lenet-a-pp")
    >>> type(model.conv1).__name__, model.training
    ('PushPull2d', False)
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .io import atomic_save, atomic_write_text

__all__ = ["WEIGHTS_DIR", "export_weights", "list_pretrained", "load_pretrained", "pretrained_card", "write_cards"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
FORMAT = "pushpull-viz-weights/1"


def list_pretrained() -> list[str]:
    """Names of the shipped weights (file stems in ``pushpull_viz/weights``)."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))


def _path(name: str) -> Path:
    names = list_pretrained()
    if name not in names:
        close = difflib.get_close_matches(str(name), names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"no pretrained weights named {name!r}.{hint} Shipped: {', '.join(names) or 'none'}")
    return WEIGHTS_DIR / f"{name}.pt"


def pretrained_card(name: str) -> dict[str, Any]:
    """The model card stored with the weights: data, recipe, seed, metrics, commands."""
    return dict(torch.load(_path(name), map_location="cpu", weights_only=True)["card"])


def load_pretrained(name: str, device: str | torch.device = "cpu") -> nn.Module:
    """Build the model and load the shipped weights (strictly); returned in eval mode.

    The card is attached as ``model.card``.
    """
    from .models import load_model_from_checkpoint

    data = torch.load(_path(name), map_location=device, weights_only=True)
    model = load_model_from_checkpoint(data, map_location=device).to(device).eval()
    model.card = dict(data["card"])
    return model


def export_weights(checkpoint: str | os.PathLike, out: str | os.PathLike, card: dict[str, Any] | None = None,
                   half: bool = False) -> Path:
    """Write a weights-only file from one of this project's run checkpoints (``best.pt`` or ``last.pt``).

    Args:
        checkpoint: a run checkpoint written by :func:`pushpull_viz.train.fit`.
        out: the ``.pt`` file to write (atomically).
        card: extra model-card entries (e.g. the training and evaluation commands, metrics);
            the build config, recipe, dataset, seed and best test accuracy are filled in from
            the checkpoint, as are the epoch of the exported weights and their clean test accuracy.
        half: store floating-point tensors as float16 (halves the file; loads back as float32).

    Returns:
        The written path.
    """
    from .models.checkpoints import load_checkpoint

    data = load_checkpoint(checkpoint)
    config = data.get("config")
    if not isinstance(config, dict) or "model" not in config or "model" not in data:
        raise ValueError(f"{checkpoint} is not a pushpull-viz run checkpoint (no config/model): "
                         "export_weights takes the best.pt or last.pt of a `pushpull-viz train` run")
    state = {k: (v.half() if half and v.is_floating_point() else v) for k, v in data["model"].items()}
    recipe = config.get("recipe", {})
    epoch = data.get("epoch")
    tested = [row.get("test_accuracy") for row in data.get("history", []) if row.get("epoch") == epoch]
    full_card = {
        "model": dict(config["model"]),
        "dataset": config.get("dataset"),
        "recipe": recipe.get("name"),
        "epochs": recipe.get("epochs"),
        "seed": config.get("seed"),
        "best_test_accuracy": data.get("best_accuracy"),
        "best_epoch": data.get("best_epoch"),
        "checkpoint_epoch": epoch,  # the epoch these weights are from (best.pt: best_epoch; last.pt: the last)
        "test_accuracy": tested[0] if tested else None,  # clean test accuracy of these weights
        "trained_by": "pushpull-viz (this project), on CPU",
    }
    full_card.update(card or {})
    payload = {"format": FORMAT, "config": {"model": dict(config["model"])}, "state_dict": state, "card": full_card}
    out = Path(out)
    atomic_save(payload, out)
    return out


def write_cards(directory: str | os.PathLike = WEIGHTS_DIR) -> Path:
    """(Re)write ``README.md`` in the weights folder from the cards inside the files."""
    directory = Path(directory)
    lines = ["# Shipped weights", "",
             "Weights-only checkpoints trained by this project with its own command line; written by",
             "`pushpull_viz.pretrained.write_cards()` from the cards stored inside each file.",
             "Load with `pushpull_viz.pretrained.load_pretrained(name)`.", ""]
    for path in sorted(directory.glob("*.pt")):
        card = torch.load(path, map_location="cpu", weights_only=True)["card"]
        lines += [f"## {path.stem}", "", f"- file: `{path.name}` ({path.stat().st_size / 1024:.0f} KiB)"]
        for key, value in card.items():
            if isinstance(value, (list, tuple)):
                lines.append(f"- {key}:" + "".join(f"\n  - `{item}`" for item in value))
            elif isinstance(value, dict):
                lines.append(f"- {key}:" + "".join(f"\n  - {k}: {v}" for k, v in value.items()))
            else:
                lines.append(f"- {key}: {value}")
        lines.append("")
    target = directory / "README.md"
    atomic_write_text(target, "\n".join(lines))
    return target
