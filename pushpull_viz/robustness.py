"""Robustness evaluation: accuracy of one or more models on corrupted versions of a test set.

Corrupted sets are made on the fly, batch by batch (never the whole suite in memory), with
a generator seeded per ``(seed, corruption, severity)``: every model sees the very same
corrupted images, and a rerun gives the same numbers.

Results are tidy pandas DataFrames (one row per model x corruption x severity) that seaborn
plots directly and that are stored as CSV.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .checks import check_images, check_int
from .corruptions import corrupt, corruption_generator, corruption_info, resolve_corruptions

__all__ = ["ALEXNET_CIFAR_ERRORS", "ALEXNET_IMAGENET_ERRORS", "BASELINES", "RobustnessSummary", "default_baseline",
           "evaluate", "evaluate_loader", "evaluate_released", "summarize", "summary_table"]


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
        corruptions: registered corruption names (:func:`~pushpull_viz.corruptions.list_corruptions`)
            and/or suite names such as ``"cifar10-c"`` (:func:`~pushpull_viz.corruptions.list_suites`).
        severities: which severities (default: all of each corruption's levels).
        batch_size: images per batch.
        device: where to corrupt and evaluate (default: the first model's device).
        seed: seeds the corruption noise.
        progress: show a tqdm bar.

    Returns:
        A DataFrame with columns ``model, corruption, severity, level, accuracy, error, n``;
        the clean set is the row with ``corruption == "clean"`` and ``severity == 0``.
    """
    models = _as_dict(models)
    check_images(images)
    if labels.shape != (images.shape[0],):
        raise ValueError(f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}")
    check_int(batch_size, "batch_size", 1)
    sets = _corruption_sets(corruptions, severities)
    return _score_on_the_fly(models, _slices(images, labels, batch_size), sets, device, seed, progress,
                             -(-images.shape[0] // batch_size))


def evaluate_loader(
    models: nn.Module | Mapping[str, nn.Module],
    loader,
    corruptions: Sequence[str] = (),
    severities: Sequence[int] | None = None,
    device: str | torch.device | None = None,
    seed: int = 0,
    progress: bool = True,
):
    """:func:`evaluate` for test sets too large for memory (ImageNet's 50,000 validation images).

    Each batch of ``loader`` is decoded once and every corruption and severity is made from it on the
    device, so the images are read once, whatever the number of corrupted sets. The noise is the
    same as :func:`evaluate` draws for the same batches in the same order.

    Args:
        loader: an iterable of ``(images, labels)`` batches in a fixed order, images uint8 or float in
            [0, 1] (e.g. ``folder_dataloader(path, train=False, pipeline="imagenet")``: resize 256,
            centre crop 224, as ImageNet-C was made).
        models, corruptions, severities, device, seed, progress: as in :func:`evaluate`.

    Returns:
        The same tidy DataFrame as :func:`evaluate`.
    """
    models = _as_dict(models)
    sets = _corruption_sets(corruptions, severities)
    total = len(loader) if hasattr(loader, "__len__") else None
    return _score_on_the_fly(models, loader, sets, device, seed, progress, total)


def evaluate_released(
    models: nn.Module | Mapping[str, nn.Module],
    suite,
    corruptions: Sequence[str] | None = None,
    severities: Sequence[int] | None = None,
    clean=None,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    progress: bool = True,
    indices: Tensor | None = None,
):
    """Like :func:`evaluate`, on the published files instead of corruptions made on the fly.

    Args:
        models: a model or ``{name: model}``.
        suite: a :class:`~pushpull_viz.corruptions.ReleasedSuite` (``open_released(root, "cifar10-c")``)
            or a :class:`~pushpull_viz.corruptions.ReleasedImageFolders` (``open_released(root,
            "imagenet-c")``, streamed through ``DataLoader`` workers).
        corruptions: which of its corruptions (default: all present).
        severities: which severities (default: all of the suite's).
        clean: the clean test set for the clean row: :class:`~pushpull_viz.data.ImageTensors`, or for
            ImageNet-C an iterable of batches (``folder_dataloader(val, train=False,
            pipeline="imagenet")``); default: the suite's own (MNIST-C's ``identity``), else no clean row.
        batch_size, device, progress: as in :func:`evaluate`.
        indices: evaluate only these rows of every block (and of ``clean``): a subset of the
            test set, the same images in every corruption.

    Returns:
        The same tidy DataFrame as :func:`evaluate` (``level`` is empty: the files fix it). ImageNet-C
        rows are named as the registry names them (``imagenetc_fog``), like corruptions made on the fly.
    """
    models = _as_dict(models)
    check_int(batch_size, "batch_size", 1)
    chosen = tuple(suite.corruptions if corruptions is None else corruptions)
    wanted = tuple(suite.severities if severities is None else severities)
    bad = [s for s in wanted if s not in suite.severities]
    if bad:
        raise ValueError(f"severities {bad} are not in {suite.suite}: it has {', '.join(map(str, suite.severities))}")
    if clean is None and suite.has_clean:
        clean = suite.clean()

    def rows(tensor: Tensor) -> Tensor:
        return tensor if indices is None else tensor[indices]

    sets = []
    if clean is not None and hasattr(clean, "images"):
        sets.append(_Set("clean", 0, None, lambda: _slices(rows(clean.images), rows(clean.labels), batch_size)))
    elif clean is not None:
        if indices is not None:
            raise ValueError("indices need the clean set as ImageTensors; subset a streamed clean set in its loader")
        sets.append(_Set("clean", 0, None, lambda: iter(clean)))
    def batches(name: str, severity: int):
        if hasattr(suite, "loader"):  # image folders: streamed through DataLoader workers
            return suite.loader(name, severity, batch_size, indices=indices)
        return _slices(rows(suite.images(name, severity)), rows(suite.labels(name, severity)), batch_size)

    for name in chosen:
        label = suite.registry_name(name) if hasattr(suite, "registry_name") else name
        sets += [_Set(label, s, None, functools.partial(batches, name, s)) for s in wanted]
    return _score(models, sets, device, progress)


@dataclass
class _Set:
    """One released test set: a function giving its ``(images, labels)`` batches when it is scored."""

    corruption: str
    severity: int
    level: Any
    batches: Any


def _slices(images: Tensor, labels: Tensor, batch_size: int):
    for start in range(0, images.shape[0], batch_size):
        yield images[start:start + batch_size], labels[start:start + batch_size]


def _corruption_sets(corruptions, severities) -> list[tuple[str, int, Any]]:
    """``(name, severity, level)`` for every requested corruption and severity, checked."""
    sets = []
    for name in resolve_corruptions(corruptions):
        info = corruption_info(name)
        chosen = info.severities if severities is None else tuple(severities)
        bad = [s for s in chosen if s not in info.severities]
        if bad:
            raise ValueError(f"severities {bad} are not valid for {name!r}: it has severities 1..{len(info.levels)}")
        sets += [(name, s, info.levels[s - 1]) for s in chosen]
    return sets


def _as_dict(models) -> dict[str, nn.Module]:
    if isinstance(models, nn.Module):
        models = {getattr(models, "model_name", type(models).__name__): models}
    if not models:
        raise ValueError("models is empty")
    return dict(models)


def _prepare(models: dict[str, nn.Module], device) -> torch.device:
    if device is None:
        first = next(iter(models.values()))
        device = next(first.parameters()).device if any(True for _ in first.parameters()) else torch.device("cpu")
    device = torch.device(device)
    for model in models.values():
        model.to(device).eval()
    return device


def _as_float(batch: Tensor) -> Tensor:
    return batch.float() / 255 if batch.dtype == torch.uint8 else batch.float()


def _table(rows: list[dict[str, Any]], models: dict[str, nn.Module]):
    import pandas as pd

    table = pd.DataFrame(rows)
    return table.sort_values("model", kind="stable", key=lambda m: m.map(list(models).index)).reset_index(drop=True)


def _rows(models, corruption: str, severity: int, level: Any, correct: Mapping[str, int], n: int) -> list[dict]:
    if n == 0:
        raise ValueError(f"no images in the {corruption} set")
    return [{"model": name, "corruption": corruption, "severity": severity, "level": level,
             "accuracy": correct[name] / n, "error": (n - correct[name]) / n, "n": n} for name in models]


def _score_on_the_fly(models: dict[str, nn.Module], batches, sets: list[tuple[str, int, Any]], device, seed: int,
                      progress: bool, total: int | None):
    """Accuracy of every model on the clean batches and on every corrupted set made from them, batch by
    batch (each set keeps its own seeded generator across the batches)."""
    from tqdm.auto import tqdm

    device = _prepare(models, device)
    generators = [corruption_generator(seed, name, s, device) for name, s, _ in sets]
    correct = [dict.fromkeys(models, 0) for _ in range(len(sets) + 1)]  # [0]: clean
    n = 0
    bar = tqdm(total=total, desc="robustness", unit="batch", disable=not progress or None)
    with torch.inference_mode():
        for images, labels in batches:
            images, target = images.to(device), labels.to(device)
            for k, (name, s, _) in enumerate([("clean", 0, None), *sets]):
                batch = images if k == 0 else corrupt(images, name, s, generators[k - 1])
                batch = _as_float(batch)
                for model_name, model in models.items():
                    correct[k][model_name] += (model(batch).argmax(1) == target).sum().item()
            n += labels.shape[0]
            bar.update(1)
    bar.close()
    rows = _rows(models, "clean", 0, None, correct[0], n)
    for k, (name, s, level) in enumerate(sets, start=1):
        rows += _rows(models, name, s, level, correct[k], n)
    return _table(rows, models)


def _score(models: dict[str, nn.Module], sets: list[_Set], device, progress: bool):
    """Accuracy of every model on every released set, one set and one batch at a time; the tidy table."""
    from tqdm.auto import tqdm

    device = _prepare(models, device)
    rows = []
    bar = tqdm(total=len(sets), desc="robustness", unit="set", disable=not progress or None)
    with torch.inference_mode():
        for test_set in sets:
            correct, n = dict.fromkeys(models, 0), 0
            for images, labels in test_set.batches():
                batch, target = _as_float(images.to(device)), labels.to(device)
                for name, model in models.items():
                    correct[name] += (model(batch).argmax(1) == target).sum().item()
                n += labels.shape[0]
            rows += _rows(models, test_set.corruption, test_set.severity, test_set.level, correct, n)
            bar.set_postfix_str(f"{test_set.corruption} s{test_set.severity}", refresh=False)
            bar.update(1)
    bar.close()
    return _table(rows, models)


# ------------------------------------------------------------------------------------------ metrics

#: The paper's CIFAR AlexNet errors (fractions): clean, and per corruption the mean over the 5
#: severities. Source: Strisciuglio et al. 2020, section 3 (the mCE normaliser, from Hendrycks &
#: Dietterich's CIFAR AlexNet). A ratio of sums over severities equals the ratio of these means.
ALEXNET_CIFAR_ERRORS = {
    "clean": 0.1387,
    "gaussian_noise": 0.3844, "shot_noise": 0.3182, "impulse_noise": 0.4613, "speckle_noise": 0.3126,
    "defocus_blur": 0.2353, "glass_blur": 0.4097, "motion_blur": 0.2932, "zoom_blur": 0.2689,
    "gaussian_blur": 0.2778, "snow": 0.2694, "frost": 0.2826, "fog": 0.3031, "spatter": 0.2519,
    "brightness": 0.1784, "contrast": 0.4677, "elastic_transform": 0.2225, "pixelate": 0.1836,
    "jpeg_compression": 0.1848, "saturate": 0.2215,
}


#: AlexNet's ImageNet-C errors (fractions), the ImageNet mCE normaliser: clean top-1 error, and per benchmark
#: corruption the mean over the 5 severities. Source: Hendrycks & Dietterich, "Benchmarking neural network
#: robustness to common corruptions and perturbations", ICLR 2019 (clean error 43.5%, Table 1) and their
#: repository hendrycks/robustness (the per-corruption means, as AugMix's imagenet.py copies them). The
#: benchmark table gives no AlexNet errors for the 4 extra corruptions: their mCE needs another baseline.
ALEXNET_IMAGENET_ERRORS = {
    "clean": 0.435,
    "imagenetc_gaussian_noise": 0.886428, "imagenetc_shot_noise": 0.894468, "imagenetc_impulse_noise": 0.922640,
    "imagenetc_defocus_blur": 0.819880, "imagenetc_glass_blur": 0.826268, "imagenetc_motion_blur": 0.785948,
    "imagenetc_zoom_blur": 0.798360, "imagenetc_snow": 0.866816, "imagenetc_frost": 0.826572,
    "imagenetc_fog": 0.819324, "imagenetc_brightness": 0.564592, "imagenetc_contrast": 0.853204,
    "imagenetc_elastic_transform": 0.646056, "imagenetc_pixelate": 0.717840, "imagenetc_jpeg_compression": 0.606500,
}
#: Built-in baselines: name -> (errors, how summaries label them).
BASELINES = {
    "alexnet-cifar": (ALEXNET_CIFAR_ERRORS, "alexnet-cifar (paper)"),
    "alexnet-imagenet": (ALEXNET_IMAGENET_ERRORS, "alexnet-imagenet (Hendrycks & Dietterich 2019)"),
}


def default_baseline(corruptions) -> str | None:
    """The built-in baseline that covers every corruption in ``corruptions`` (None if none does).

    >>> default_baseline(["fog", "snow"]), default_baseline(["imagenetc_fog"]), default_baseline(["mnist_fog"])
    ('alexnet-cifar', 'alexnet-imagenet', None)
    """
    names = [c for c in corruptions if c != "clean"]
    for name, (errors, _) in BASELINES.items():
        if names and all(c in errors for c in names):
            return name
    return None


@dataclass
class RobustnessSummary:
    """The paper's metrics for one model (errors as fractions; mCE and relative mCE in percent).

    Attributes:
        clean_error: E_clean.
        corruption_error: E_corr, the plain mean error over all corruption x severity sets given.
        mce: 100 x mean over corruptions of CE_c = sum_s E(c,s) / sum_s E_base(c,s).
        relative_mce: 100 x mean of rCE_c = sum_s (E(c,s) - E_clean) / sum_s (E_base(c,s) - E_base_clean).
        per_corruption: DataFrame ``corruption, error (mean over severities), ce, rce``.
        baseline: what the errors were normalised by.
    """

    clean_error: float
    corruption_error: float
    mce: float
    relative_mce: float
    per_corruption: Any
    baseline: str

    def as_row(self) -> dict[str, Any]:
        return {"clean_error": self.clean_error, "corruption_error": self.corruption_error, "mCE": self.mce,
                "relative_mCE": self.relative_mce, "n_corruptions": len(self.per_corruption),
                "baseline": self.baseline}


def _mean_errors(errors, what: str, model: str | None = None) -> tuple[dict[str, float], float | None]:
    """``{corruption: mean error over severities}`` and the clean error (if present) from a table or mapping."""
    import pandas as pd

    if isinstance(errors, pd.DataFrame):
        missing = {"corruption", "error"} - set(errors.columns)
        if missing:
            raise ValueError(f"{what} table needs columns 'corruption' and 'error' (missing {sorted(missing)})")
        if "model" in errors.columns and errors["model"].nunique() > 1:
            if model is None:
                raise ValueError(f"{what} table holds several models "
                                 f"({', '.join(map(str, errors['model'].unique()))}); "
                                 "pass model=... or summarize each (groupby('model'))")
            errors = errors[errors["model"] == model]
        clean = errors.loc[errors["corruption"] == "clean", "error"]
        means = errors[errors["corruption"] != "clean"].groupby("corruption", sort=False)["error"].mean()
        result, clean_error = {str(k): float(v) for k,
                               v in means.items()}, (float(clean.iloc[0]) if len(clean) else None)
    elif isinstance(errors, Mapping):
        result, clean_error = {}, None
        for key, value in errors.items():
            mean = float(sum(value) / len(value)) if isinstance(value, (list, tuple)) else float(value)
            if key == "clean":
                clean_error = mean
            else:
                result[str(key)] = mean
    else:
        raise TypeError(f"{what} must be a DataFrame from evaluate() or a mapping corruption -> error, "
                        f"got {type(errors).__name__}")
    for key, value in [*result.items(), ("clean", clean_error)]:
        if value is not None and not 0 <= value <= 1:
            raise ValueError(f"{what}: errors must be fractions in [0, 1], got {value!r} for {key!r} "
                             "(divide percentages by 100)")
    return result, clean_error


def summarize(
    errors,
    clean_error: float | None = None,
    baseline: str | Any = "alexnet-cifar",
    baseline_clean_error: float | None = None,
    model: str | None = None,
) -> RobustnessSummary:
    """CE, rCE, mCE and relative mCE of one model, normalised by a baseline.

    Args:
        errors: :func:`evaluate` output (one model, or pick one with ``model=``) or a mapping
            ``corruption -> error`` (mean over severities) or ``-> [error per severity]``; errors
            as fractions. A ``"clean"`` row or key gives the clean error.
        clean_error: E_clean, if ``errors`` does not hold it.
        baseline: ``"alexnet-cifar"`` (the paper's normaliser, built in), ``"alexnet-imagenet"``
            (ImageNet-C's, :data:`ALEXNET_IMAGENET_ERRORS`) or another model's errors in the same forms
            (e.g. the plain twin of a push-pull model).
        baseline_clean_error: the baseline's clean error, if its table does not hold it.
        model: which model of a multi-model table to summarise.

    Example (paper Table 2, ResNet-20; errors in percent / 100):
        >>> paper = {"gaussian_noise": .5741, "shot_noise": .4575}
        >>> s = summarize(paper, clean_error=.0756)
        >>> round(s.mce, 1), list(s.per_corruption["corruption"])
        (146.6, ['gaussian_noise', 'shot_noise'])
    """
    import pandas as pd

    means, found_clean = _mean_errors(errors, "errors", model)
    clean = found_clean if clean_error is None else float(clean_error)
    if clean is None:
        raise ValueError("no clean error: pass clean_error=... or include a 'clean' row")
    if isinstance(baseline, str):
        if baseline not in BASELINES:
            raise ValueError(f"unknown baseline {baseline!r}: use {' or '.join(map(repr, BASELINES))} or pass "
                             "another model's errors")
        errors_table, label = BASELINES[baseline]
        base = {k: v for k, v in errors_table.items() if k != "clean"}
        base_clean = errors_table["clean"]
    else:
        base, base_clean = _mean_errors(baseline, "baseline")
        base_clean = base_clean if baseline_clean_error is None else float(baseline_clean_error)
        if base_clean is None:
            raise ValueError("the baseline has no clean error: pass baseline_clean_error=...")
        label = "custom baseline"
    if not means:
        raise ValueError("errors hold no corrupted sets")
    unknown = [c for c in means if c not in base]
    if unknown:
        raise ValueError(f"the baseline has no errors for {unknown}; it covers {', '.join(base)}")
    rows = []
    for name, error in means.items():
        denominator = base[name] - base_clean
        rows.append({"corruption": name, "error": error, "ce": error / base[name],
                     "rce": (error - clean) / denominator if denominator != 0 else float("nan")})
    table = pd.DataFrame(rows)
    if isinstance(errors, pd.DataFrame):
        part = errors if model is None or "model" not in errors else errors[errors["model"] == model]
        corrupted = part[part["corruption"] != "clean"]["error"]
        corruption_error = float(corrupted.mean())
    else:
        corruption_error = float(table["error"].mean())
    return RobustnessSummary(clean, corruption_error, 100 * float(table["ce"].mean()),
                             100 * float(table["rce"].mean()), table, label)


def summary_table(results, baseline: str = "alexnet-cifar"):
    """One :class:`RobustnessSummary` row per model of an :func:`evaluate` table.

    Args:
        results: the tidy DataFrame of :func:`evaluate` (several models allowed).
        baseline: ``"alexnet-cifar"`` (the paper's normaliser), ``"alexnet-imagenet"`` or the name of
            one of the models in ``results`` (e.g. the plain twin of a push-pull model).

    Returns:
        A DataFrame ``model, clean_error, corruption_error, mCE, relative_mCE, n_corruptions,
        baseline``.
    """
    import pandas as pd

    models = list(dict.fromkeys(results["model"]))
    if baseline not in BASELINES and baseline not in models:
        raise ValueError(f"baseline must be {', '.join(map(repr, BASELINES))} or one of the models "
                         f"({', '.join(map(str, models))}), got {baseline!r}")
    base = baseline if baseline in BASELINES else results[results["model"] == baseline]
    rows = []
    for name in models:
        row = summarize(results, baseline=base, model=name).as_row()
        row["baseline"] = BASELINES[baseline][1] if baseline in BASELINES else str(baseline)
        rows.append({"model": name, **row})
    return pd.DataFrame(rows)
