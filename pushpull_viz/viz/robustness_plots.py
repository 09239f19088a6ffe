"""Robustness figures from the tidy tables of :mod:`pushpull_viz.robustness`, with the paper's
reported numbers (:mod:`pushpull_viz.paper`) beside ours where the paper has them.

* :func:`plot_error_vs_severity` - error against severity, one panel per corruption.
* :func:`plot_mce_bars` - mCE and relative mCE per model, ours and the paper's.
* :func:`plot_corruption_errors` - per-corruption error (mean over severities), ours and Table 2's.

Every function returns a matplotlib ``Figure`` (never shown: the caller displays or saves it).
Errors are drawn in percent. Ours are solid bars; the paper's are lighter, hatched bars
labelled "paper".

Example:
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> rows = [("a", "clean", 0, .1), ("a", "fog", 1, .2), ("a", "fog", 2, .3)]
    >>> results = pd.DataFrame(rows, columns=["model", "corruption", "severity", "error"])
    >>> fig = plot_error_vs_severity(results)
    >>> [ax.get_title() for ax in fig.axes if ax.get_visible()]
    ['fog']
    >>> plt.close(fig)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    from matplotlib.figure import Figure

__all__ = ["plot_corruption_errors", "plot_error_vs_severity", "plot_mce_bars"]

PaperMapping = Mapping[str, str] | Literal["auto"] | None
_PAPER_STYLE = {"alpha": 0.45, "hatch": "///", "linewidth": 0.8}


# ----------------------------------------------------------------------------------- helpers
def _require(table, columns: Sequence[str], argument: str, expected: str):
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{argument} must be a pandas DataFrame ({expected}), got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{argument} table is missing columns {missing}: expected {expected} "
                         f"with columns {', '.join(columns)} (found {', '.join(map(str, table.columns))})")
    if table.empty:
        raise ValueError(f"{argument} table is empty")
    return table


def _choose(requested: Sequence[str] | None, available: list[str], argument: str) -> list[str]:
    if requested is None:
        return available
    if isinstance(requested, str):
        requested = [requested]
    requested = list(requested)
    unknown = [name for name in requested if name not in available]
    if unknown:
        raise ValueError(f"{argument}: {unknown} not in the table; it has {', '.join(map(str, available))}")
    if not requested:
        raise ValueError(f"{argument} is empty")
    return requested


def _palette(models: Sequence[str]) -> dict[str, tuple]:
    import seaborn as sns

    return dict(zip(models, sns.color_palette("tab10" if len(models) <= 10 else "husl", len(models)), strict=True))


def _paper_labels(paper: PaperMapping, models: Sequence[str], available: Sequence[str]) -> dict[str, str]:
    """``{our model: paper label}`` for the models that have a paper label among ``available``."""
    from ..paper import paper_model_name

    if paper is None:
        return {}
    if isinstance(paper, str):
        if paper != "auto":
            raise ValueError(f"paper must be a mapping {{our model: paper model}}, 'auto' or None, got {paper!r}")
        found = {m: paper_model_name(str(m)) for m in models}
        return {m: label for m, label in found.items() if label in available}
    if not isinstance(paper, Mapping):
        raise TypeError(f"paper must be a mapping {{our model: paper model}}, 'auto' or None, got "
                        f"{type(paper).__name__}")
    unknown = [label for label in paper.values() if label not in available]
    if unknown:
        raise ValueError(f"paper: the paper's table has no model {unknown}; it has {', '.join(map(str, available))}")
    return {m: paper[m] for m in models if m in paper}


def _pretty(corruption: str) -> str:
    return corruption.replace("_", " ")


def _paper_handle(color="0.4"):
    from matplotlib.patches import Patch

    return Patch(facecolor=color, edgecolor=color, label="paper (reported)", **_PAPER_STYLE)


# ----------------------------------------------------------------------------------- figures
def plot_error_vs_severity(results: pandas.DataFrame, corruptions: Sequence[str] | None = None,
                           models: Sequence[str] | None = None, col_wrap: int = 4) -> Figure:
    """Top-1 error against severity: one panel per corruption, one line per model, and each
    model's clean error as a dashed line of its colour. Panels share the y axis.

    Args:
        results: :func:`pushpull_viz.robustness.evaluate` output (columns ``model, corruption,
            severity, error``; the clean row has ``corruption == "clean"``). Several rows per
            model, corruption and severity (e.g. seeds) are averaged.
        corruptions: which corruptions, in panel order (default: all in the table).
        models: which models (default: all in the table).
        col_wrap: panels per row.

    Returns:
        The figure: ``len(corruptions)`` visible panels titled with the corruption names.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import pandas as pd, matplotlib.pyplot as plt
        >>> rows = [(m, c, s, e) for m, e in (("plain", .3), ("pp", .2)) for c in ("fog", "snow") for s in (1, 2)]
        >>> fig = plot_error_vs_severity(pd.DataFrame(rows, columns=["model", "corruption", "severity", "error"]))
        >>> sum(ax.get_visible() for ax in fig.axes), fig.axes[0].get_ylabel()
        (2, 'top-1 error (%)')
        >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    _require(results, ["model", "corruption", "severity", "error"], "results",
             "the output of pushpull_viz.robustness.evaluate")
    if isinstance(col_wrap, bool) or not isinstance(col_wrap, int) or col_wrap < 1:
        raise ValueError(f"col_wrap must be a positive integer, got {col_wrap!r}")
    available = [c for c in dict.fromkeys(results["corruption"]) if c != "clean"]
    if not available and corruptions is None:
        raise ValueError("results holds no corrupted sets (only 'clean' rows)")
    corruptions = _choose(corruptions, available, "corruptions")
    models = _choose(models, list(dict.fromkeys(results["model"])), "models")
    colors = _palette(models)
    data = results[results["model"].isin(models)]
    means = (data.assign(percent=100 * data["error"].astype(float))
             .groupby(["corruption", "model", "severity"], sort=False)["percent"].mean())
    clean = means.xs("clean", level="corruption").groupby(level="model").mean() if "clean" in set(data["corruption"]) \
        else None

    ncols = min(col_wrap, len(corruptions))
    nrows = math.ceil(len(corruptions) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.1 * ncols + 0.4, 2.6 * nrows + 0.9), sharey=True,
                             squeeze=False, layout="constrained")
    top = 0.0
    for index, (ax, corruption) in enumerate(zip(axes.flat, corruptions, strict=False)):
        part = means.xs(corruption, level="corruption")
        for model in models:
            if model in part.index.get_level_values("model"):
                line = part.xs(model, level="model").sort_index()
                ax.plot(line.index, line.values, marker="o", markersize=4, color=colors[model], label=model)
                top = max(top, float(line.max()))
            if clean is not None and model in clean.index:
                ax.axhline(clean[model], color=colors[model], linestyle="--", linewidth=1.1)
                top = max(top, float(clean[model]))
        severities = sorted(part.index.get_level_values("severity").unique())
        ax.set_xticks(severities)
        ax.set_title(_pretty(corruption), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        if index % ncols == 0:
            ax.set_ylabel("top-1 error (%)")
        if index >= len(corruptions) - ncols:
            ax.set_xlabel("severity")
    for ax in list(axes.flat)[len(corruptions):]:
        ax.set_visible(False)
    axes[0, 0].set_ylim(0, max(5.0, min(100.0, top * 1.08)))
    handles = [Line2D([], [], color=colors[m], marker="o", markersize=4, label=m) for m in models]
    if clean is not None:
        handles.append(Line2D([], [], color="0.3", linestyle="--", label="clean error (same colour)"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False)
    fig.suptitle("Top-1 error against corruption severity")
    return fig


def plot_mce_bars(summary: pandas.DataFrame, paper: PaperMapping = None,
                  paper_values: pandas.DataFrame | None = None) -> Figure:
    """mCE and relative mCE per model (AlexNet = 100), ours beside the paper's reported values.

    Args:
        summary: :func:`pushpull_viz.robustness.summary_table` output (columns ``model, mCE,
            relative_mCE``; ``n_corruptions`` is shown in the title if present).
        paper: ``{our model: paper model}`` (e.g. ``{"resnet-20": "ResNet-20"}``), ``"auto"``
            (match names with :func:`pushpull_viz.paper.paper_model_name`) or ``None`` (no paper
            bars). A paper bar is drawn only where the paper reports a value.
        paper_values: the paper's numbers (default :func:`pushpull_viz.paper.paper_summary`).

    Returns:
        The figure: two panels (mCE, relative mCE); each bar's ``gid`` is ``"ours:<model>"`` or
        ``"paper:<model>"``.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import pandas as pd, matplotlib.pyplot as plt
        >>> summary = pd.DataFrame({"model": ["r20", "mine"], "mCE": [110., 95.], "relative_mCE": [180., 150.]})
        >>> fig = plot_mce_bars(summary, paper={"r20": "ResNet-20"})
        >>> [p.get_gid() for p in fig.axes[0].patches]
        ['ours:r20', 'paper:r20', 'ours:mine']
        >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ..paper import paper_summary

    _require(summary, ["model", "mCE", "relative_mCE"], "summary",
             "the output of pushpull_viz.robustness.summary_table")
    if paper_values is None:
        paper_values = paper_summary()
    _require(paper_values, ["model", "mCE", "relative_mCE"], "paper_values", "pushpull_viz.paper.paper_summary()")
    models = list(dict.fromkeys(summary["model"]))
    ours = summary.groupby("model", sort=False)[["mCE", "relative_mCE"]].mean()
    reported = paper_values.groupby("model", sort=False)[["mCE", "relative_mCE"]].mean()
    labels = _paper_labels(paper, models, list(reported.index))
    colors = _palette(models)

    fig, axes = plt.subplots(1, 2, figsize=(max(7.0, 1.5 + 1.7 * len(models)), 3.9), layout="constrained")
    width = 0.38
    for ax, column, title in ((axes[0], "mCE", "mCE"), (axes[1], "relative_mCE", "relative mCE")):
        top = 100.0
        for x, model in enumerate(models):
            value = float(ours.loc[model, column])
            theirs = float(reported.loc[labels[model], column]) if model in labels else math.nan
            pair = not math.isnan(theirs)
            offset = -width / 2 if pair else 0.0
            bars = ax.bar(x + offset, value, width, color=colors[model], edgecolor=colors[model])
            bars[0].set_gid(f"ours:{model}")
            ax.bar_label(bars, fmt="%.0f", fontsize=8, padding=1)
            top = max(top, value)
            if pair:
                bars = ax.bar(x + width / 2, theirs, width, color=colors[model], edgecolor=colors[model],
                              **_PAPER_STYLE)
                bars[0].set_gid(f"paper:{model}")
                ax.bar_label(bars, labels=[f"{theirs:.0f}"], fontsize=8, padding=1, color="0.3")
                top = max(top, theirs)
        ax.axhline(100, color="0.3", linestyle=":", linewidth=1)
        ax.set_xticks(range(len(models)), [str(m) for m in models], rotation=20 if len(models) > 3 else 0,
                      ha="right" if len(models) > 3 else "center")
        ax.set_xlim(-0.6, len(models) - 0.4)
        ax.set_ylim(0, top * 1.12)
        ax.set_ylabel(f"{title} (%, AlexNet = 100)")
        ax.set_xlabel("model")
        ax.set_title(f"{title}: lower is better", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    handles = [Patch(color="0.4", label="ours (measured)")]
    if labels:
        handles.append(_paper_handle())
    handles.append(Line2D([], [], color="0.3", linestyle=":", label="AlexNet baseline = 100"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8, frameon=False)
    title = "Mean corruption error (mCE) and relative mCE"
    if "n_corruptions" in summary.columns:
        counts = sorted(set(int(n) for n in summary["n_corruptions"]))
        if labels or counts != [19]:
            title += f"\nours over {'/'.join(map(str, counts))} corruption(s)"
            title += ", paper over all 19" if labels else ""
    fig.suptitle(title, fontsize=11)
    return fig


def plot_corruption_errors(results: pandas.DataFrame, paper: PaperMapping = None,
                           models: Sequence[str] | None = None, corruptions: Sequence[str] | None = None,
                           paper_values: pandas.DataFrame | None = None) -> Figure:
    """Per-corruption error (mean over severities), ours beside the paper's Table 2.

    One group of bars per corruption (the clean error first, if present); in each group one
    solid bar per model and, where the paper reports that model and corruption, a lighter
    hatched "paper" bar of the same colour beside it.

    Args:
        results: :func:`pushpull_viz.robustness.evaluate` output (columns ``model, corruption,
            error``), or any table of that form.
        paper: ``{our model: paper model}`` (e.g. ``{"resnet-20": "ResNet-20", "resnet-20-pp":
            "ResNet-20-PP"}``), ``"auto"``, or ``None`` (ours only).
        models: which of our models (default: all; two, a plain model and its push-pull twin,
            read best).
        corruptions: which corruptions (default: all in ``results``, ``"clean"`` first).
        paper_values: the paper's table (default :func:`pushpull_viz.paper.paper_table2`, with
            clean errors from Table 3).

    Returns:
        The figure (one panel); each bar's ``gid`` is ``"ours:<model>:<corruption>"`` or
        ``"paper:<model>:<corruption>"``.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import pandas as pd, matplotlib.pyplot as plt
        >>> rows = [("r20", "clean", 0, .19), ("r20", "fog", 1, .3), ("r20", "fog", 2, .4)]
        >>> results = pd.DataFrame(rows, columns=["model", "corruption", "severity", "error"])
        >>> fig = plot_corruption_errors(results, paper={"r20": "ResNet-20"})
        >>> [round(float(p.get_height()), 2) for p in fig.axes[0].patches]  # ours, paper; clean then fog
        [19.0, 7.56, 35.0, 16.56]
        >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from ..paper import paper_table2

    _require(results, ["model", "corruption", "error"], "results", "the output of pushpull_viz.robustness.evaluate")
    if paper_values is None:
        paper_values = paper_table2()
    _require(paper_values, ["model", "corruption", "error"], "paper_values", "pushpull_viz.paper.paper_table2()")
    models = _choose(models, list(dict.fromkeys(results["model"])), "models")
    available = list(dict.fromkeys(results["corruption"]))
    available = (["clean"] if "clean" in available else []) + [c for c in available if c != "clean"]
    corruptions = _choose(corruptions, available, "corruptions")
    ours = (results.assign(percent=100 * results["error"].astype(float))
            .groupby(["model", "corruption"])["percent"].mean())
    reported = (paper_values.assign(percent=100 * paper_values["error"].astype(float))
                .groupby(["model", "corruption"])["percent"].mean())
    labels = _paper_labels(paper, models, list(dict.fromkeys(paper_values["model"])))
    colors = _palette(models)

    slots = len(models) * (2 if labels else 1)
    width = 0.8 / slots
    # at most 12 inches wide: 20 groups of 4 bars still read at about 0.15 inch a bar
    fig, ax = plt.subplots(figsize=(min(12.0, max(6.0, 1.0 + (0.32 * slots + 0.25) * len(corruptions))), 4.3),
                           layout="constrained")
    for x, corruption in enumerate(corruptions):
        slot = 0
        for model in models:
            for source in ("ours", "paper") if labels else ("ours",):
                position = x - 0.4 + width * (slot + 0.5)
                slot += 1
                if source == "ours":
                    value = ours.get((model, corruption), math.nan)
                    style = {}
                else:
                    value = reported.get((labels[model], corruption), math.nan) if model in labels else math.nan
                    style = _PAPER_STYLE
                value = float(value)
                if math.isnan(value):
                    continue
                bars = ax.bar(position, value, width, color=colors[model], edgecolor=colors[model], **style)
                bars[0].set_gid(f"{source}:{model}:{corruption}")
    if "clean" in corruptions and len(corruptions) > 1:
        ax.axvline(corruptions.index("clean") + 0.5, color="0.6", linewidth=0.8)
    ax.set_xticks(range(len(corruptions)), [_pretty(c) for c in corruptions], rotation=35, ha="right")
    ax.set_xlim(-0.6, len(corruptions) - 0.4)
    ax.set_xlabel("corruption")
    ax.set_ylabel("top-1 error (%), mean over severities")
    ax.grid(axis="y", alpha=0.3)
    handles = []
    for model in models:
        handles.append(Patch(color=colors[model], label=f"{model} (ours)"))
        if model in labels:
            handles.append(Patch(facecolor=colors[model], edgecolor=colors[model],
                                 label=f"{labels[model]} (paper)", **_PAPER_STYLE))
    ax.legend(handles=handles, fontsize=8, ncols=2 if len(handles) > 2 else 1, loc="upper left")
    ax.set_ylim(0, max([p.get_height() for p in ax.patches] + [5.0]) * 1.25)
    title = "Per-corruption error"
    if labels:
        title += ": ours (solid) and paper Table 2 (hatched; clean: Table 3)"
    ax.set_title(title, fontsize=11)
    return fig
