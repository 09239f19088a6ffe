"""Robustness evaluation: accuracy of one or more models on corrupted versions of a test set.

Corrupted sets are made on the fly, batch by batch (never the whole suite in memory), with
a generator seeded per ``(seed, corruption, severity)``: every model sees the very same
corrupted images, and a rerun gives the same numbers.

Results are tidy pandas DataFrames (one row per model x corruption x severity) that seaborn
plots directly and that are stored as CSV.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from .corruptions import corrupt, corruption_info
from .corruptions.registry import check_images

__all__ = ["evaluate"]


def _generator(device: torch.device, seed: int, corruption: str, severity: int) -> torch.Generator:
    key = zlib.crc32(f"{seed}/{corruption}/{severity}".encode())
    return torch.Generator(device=device).manual_seed(key)


def evaluate(
    models: nn.Module | Mapping[str, nn.Module],
    images: Tensor,
    labels: Tensor,
    corruptions: Sequence[str] = (),
    severities: Sequence[int] | None = None,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    seed: int = 0,
    progress: bool = True,
):
    """Clean and corrupted accuracy of ``models`` on ``images``.

    Args:
        models: a model or ``{name: model}``; all see the same corrupted batches.
        images: test images ``(N, C, H, W)``, uint8 or float in [0, 1].
        labels: ``(N,)`` class indices.
        corruptions: registered corruption names (:func:`~pushpull_viz.corruptions.list_corruptions`).
        severities: which severities (default: all of each corruption's levels).
        batch_size: images per batch.
        device: where to corrupt and evaluate (default: the first model's device).
        seed: seeds the corruption noise.
        progress: show a tqdm bar.

    Returns:
        A DataFrame with columns ``model, corruption, severity, level, accuracy, error, n``;
        the clean set is the row with ``corruption == "clean"`` and ``severity == 0``.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    if isinstance(models, nn.Module):
        models = {getattr(models, "model_name", type(models).__name__): models}
    if not models:
        raise ValueError("models is empty")
    check_images(images)
    if labels.shape != (images.shape[0],):
        raise ValueError(f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(corruptions, str):
        corruptions = [corruptions]
    sets = [("clean", 0, None)]
    for name in corruptions:
        info = corruption_info(name)
        chosen = info.severities if severities is None else tuple(severities)
        bad = [s for s in chosen if s not in info.severities]
        if bad:
            raise ValueError(f"severities {bad} are not valid for {name!r}: it has severities 1..{len(info.levels)}")
        sets += [(name, s, info.levels[s - 1]) for s in chosen]
    if device is None:
        first = next(iter(models.values()))
        device = next(first.parameters()).device if any(True for _ in first.parameters()) else torch.device("cpu")
    device = torch.device(device)
    for model in models.values():
        model.to(device).eval()
    labels = labels.to(device)
    correct = {(m, c, s): 0 for m in models for c, s, _ in sets}
    batches = range(0, images.shape[0], batch_size)
    bar = tqdm(total=len(sets) * len(batches), desc="robustness", unit="batch", disable=not progress or None)
    with torch.inference_mode():
        for name, severity, _ in sets:
            generator = _generator(device, seed, name, severity) if name != "clean" else None
            for start in batches:
                batch = images[start:start + batch_size].to(device)
                if name != "clean":
                    batch = corrupt(batch, name, severity, generator)
                batch = batch.float() / 255 if batch.dtype == torch.uint8 else batch.float()
                target = labels[start:start + batch_size]
                for model_name, model in models.items():
                    correct[(model_name, name, severity)] += (model(batch).argmax(1) == target).sum().item()
                bar.update(1)
    bar.close()
    n = images.shape[0]
    rows = [{"model": m, "corruption": c, "severity": s, "level": level,
             "accuracy": correct[(m, c, s)] / n, "error": (n - correct[(m, c, s)]) / n, "n": n}
            for m in models for c, s, level in sets]
    return pd.DataFrame(rows)
