"""Robustness evaluation: accuracy of one or more models on corrupted versions of a test set.

Corrupted sets are made on the fly, batch by batch (never the whole suite in memory), with
a generator seeded per ``(seed, corruption, severity)``: every model sees the very same
corrupted images, and a rerun gives the same numbers.

Results are tidy pandas DataFrames (one row per model x corruption x severity) that seaborn
plots directly and that are stored as CSV.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from .checks import check_images, check_int
from .corruptions import corrupt, corruption_generator, corruption_info, resolve_corruptions

__all__ = ["ALEXNET_CIFAR_ERRORS", "RobustnessSummary", "evaluate", "evaluate_released", "summarize",
           "summary_table"]


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
    sets = [_Set("clean", 0, None, images, labels)]
    for name in resolve_corruptions(corruptions):
        info = corruption_info(name)
        chosen = info.severities if severities is None else tuple(severities)
        bad = [s for s in chosen if s not in info.severities]
        if bad:
            raise ValueError(f"severities {bad} are not valid for {name!r}: it has severities 1..{len(info.levels)}")
        sets += [_Set(name, s, info.levels[s - 1], images, labels, seed) for s in chosen]
    return _score(models, sets, batch_size, device, progress)


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
        suite: a :class:`~pushpull_viz.corruptions.ReleasedSuite` (``open_released(root, "cifar10-c")``).
        corruptions: which of its corruptions (default: all present).
        severities: which severities (default: all of the suite's).
        clean: the clean test set (:class:`~pushpull_viz.data.ImageTensors`) for the clean row;
            default: the suite's own (MNIST-C's ``identity``), else no clean row.
        batch_size, device, progress: as in :func:`evaluate`.
        indices: evaluate only these rows of every block (and of ``clean``): a subset of the
            test set, the same images in every corruption.

    Returns:
        The same tidy DataFrame as :func:`evaluate` (``level`` is empty: the files fix it).
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

    sets = [_Set("clean", 0, None, rows(clean.images), rows(clean.labels))] if clean is not None else []
    for name in chosen:
        sets += [_Set(name, s, None, lambda n=name, s=s: rows(suite.images(n, s)),
                      lambda n=name, s=s: rows(suite.labels(n, s))) for s in wanted]
    return _score(models, sets, batch_size, device, progress)


@dataclass
class _Set:
    """One test set: images and labels (tensors, or functions loading them when needed); a
    corruption made on the fly when ``seed`` is given."""

    corruption: str
    severity: int
    level: Any
    images: Any
    labels: Any
    seed: int | None = None

    def load(self) -> tuple[Tensor, Tensor]:
        images = self.images() if callable(self.images) else self.images
        labels = self.labels() if callable(self.labels) else self.labels
        return images, labels


def _as_dict(models) -> dict[str, nn.Module]:
    if isinstance(models, nn.Module):
        models = {getattr(models, "model_name", type(models).__name__): models}
    if not models:
        raise ValueError("models is empty")
    return dict(models)


def _score(models: dict[str, nn.Module], sets: list[_Set], batch_size: int, device, progress: bool):
    """Accuracy of every model on every set, one batch at a time; the tidy table."""
    import pandas as pd
    from tqdm.auto import tqdm

    if device is None:
        first = next(iter(models.values()))
        device = next(first.parameters()).device if any(True for _ in first.parameters()) else torch.device("cpu")
    device = torch.device(device)
    for model in models.values():
        model.to(device).eval()
    rows = []
    bar = tqdm(total=len(sets), desc="robustness", unit="set", disable=not progress or None)
    with torch.inference_mode():
        for test_set in sets:
            images, labels = test_set.load()
            generator = None if test_set.seed is None else corruption_generator(
                test_set.seed, test_set.corruption, test_set.severity, device)
            correct = dict.fromkeys(models, 0)
            for start in range(0, images.shape[0], batch_size):
                batch = images[start:start + batch_size].to(device)
                if generator is not None:
                    batch = corrupt(batch, test_set.corruption, test_set.severity, generator)
                batch = batch.float() / 255 if batch.dtype == torch.uint8 else batch.float()
                target = labels[start:start + batch_size].to(device)
                for name, model in models.items():
                    correct[name] += (model(batch).argmax(1) == target).sum().item()
            n = images.shape[0]
            rows += [{"model": name, "corruption": test_set.corruption, "severity": test_set.severity,
                      "level": test_set.level, "accuracy": correct[name] / n, "error": (n - correct[name]) / n,
                      "n": n} for name in models]
            bar.set_postfix_str(f"{test_set.corruption} s{test_set.severity}", refresh=False)
            bar.update(1)
    bar.close()
    table = pd.DataFrame(rows)
    return table.sort_values("model", kind="stable", key=lambda m: m.map(list(models).index)).reset_index(drop=True)


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
        baseline: ``"alexnet-cifar"`` (the paper's normaliser, built in) or another model's
            errors in the same forms (e.g. the plain twin of a push-pull model).
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
        if baseline != "alexnet-cifar":
            raise ValueError(f"unknown baseline {baseline!r}: use 'alexnet-cifar' or pass another model's errors")
        base = {k: v for k, v in ALEXNET_CIFAR_ERRORS.items() if k != "clean"}
        base_clean, label = ALEXNET_CIFAR_ERRORS["clean"], "alexnet-cifar (paper)"
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
        baseline: ``"alexnet-cifar"`` (the paper's normaliser) or the name of one of the
            models in ``results`` (e.g. the plain twin of a push-pull model).

    Returns:
        A DataFrame ``model, clean_error, corruption_error, mCE, relative_mCE, n_corruptions,
        baseline``.
    """
    import pandas as pd

    models = list(dict.fromkeys(results["model"]))
    if baseline != "alexnet-cifar" and baseline not in models:
        raise ValueError(f"baseline must be 'alexnet-cifar' or one of the models ({', '.join(map(str, models))}), "
                         f"got {baseline!r}")
    base = "alexnet-cifar" if baseline == "alexnet-cifar" else results[results["model"] == baseline]
    rows = []
    for name in models:
        row = summarize(results, baseline=base, model=name).as_row()
        row["baseline"] = "alexnet-cifar (paper)" if baseline == "alexnet-cifar" else str(baseline)
        rows.append({"model": name, **row})
    return pd.DataFrame(rows)
