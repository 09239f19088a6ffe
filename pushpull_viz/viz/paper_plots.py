"""The paper's experiments as figures (the journal-club notebook 00), with this project's numbers beside them.

Each function draws one question: the paper's numbers come from :mod:`pushpull_viz.paper` (with
their page references); this project's are passed in by the caller (tables under ``results/``),
always labelled with what they were measured on.

- :func:`plot_noise_ramp`: one kernel's response across a noise ramp, plain convolution vs push-pull,
  on one locked colour scale (in the spirit of the paper's Fig. 2/3);
- :func:`plot_pair_mce`: Table 3 as paired (dumbbell) plots, plain -> push-pull, mCE and relative mCE;
- :func:`plot_corruption_differences`: Table 2 as push-pull minus plain error per corruption;
- :func:`plot_sensitivity`: Table 4 (alpha, h) as a heat map, beside an MNIST sweep;
- :func:`plot_learned_alpha`: Table 5, fixed vs learned alpha;
- :func:`plot_mnist_study`: the paper's MNIST points beside this project's seed means and spread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import Tensor

from ..corruptions import CIFAR10C_ALL, corrupt_at_level
from ..paper import (
    TABLE2_MODELS,
    paper_learned_alpha,
    paper_mnist,
    paper_sensitivity,
    paper_summary,
    paper_table2,
)
from .features import robust_limit

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

__all__ = ["plot_corruption_differences", "plot_learned_alpha", "plot_mnist_study", "plot_noise_ramp",
           "plot_pair_mce", "plot_sensitivity"]

PLAIN, PUSHPULL = "#7f7f7f", "#d62728"


def _pairs(labels: Sequence[str]) -> list[str]:
    """Plain models that have a -PP twin, in the given order."""
    return [m for m in labels if not m.endswith(("-PP", "-PPa")) and f"{m}-PP" in labels]


# ----------------------------------------------------------------------------- the layer
def plot_noise_ramp(layer, conv, image: Tensor, variances: Sequence[float], seed: int = 0) -> Figure:
    """Input, ``ReLU(conv)`` and the rectified push-pull output of one unit across a noise ramp.

    The same noise draw is scaled to each variance. Both response rows share one colour scale
    (0 to the strongest response in either row), so a darker push-pull map is a weaker response,
    not a rescaled one. The push-pull output is shown rectified, as the next layer sees
    it after its ReLU. The band where the zero padding acts (half the pull kernel) is cut off.

    Args:
        layer: a one-channel :class:`~pushpull_viz.PushPull2d`; conv: the plain ``nn.Conv2d`` with
            the same kernel (:func:`~pushpull_viz.viz.pushpull_from_kernel` gives both).
        image: ``(1, H, W)`` in [0, 1].
        variances: Gaussian noise variances, one column each.
        seed: the noise draw.
    """
    band = max(layer.pull_kernel_size) // 2
    rows = {"input": [], "plain conv": [], "push-pull": []}
    with torch.no_grad():
        for variance in variances:
            x = image[None].float()
            if variance > 0:
                x = corrupt_at_level(x, "mnist_gaussian_noise", variance, torch.Generator().manual_seed(seed))
            crop = (slice(band, x.shape[-2] - band), slice(band, x.shape[-1] - band))
            rows["input"].append(x[0, 0][crop])
            rows["plain conv"].append(torch.relu(conv(x))[0, 0][crop])
            rows["push-pull"].append(torch.relu(layer(x))[0, 0][crop])
    limit = max(robust_limit(rows["plain conv"] + rows["push-pull"], 0, quantile=1.0), 1e-6)
    fig, axes = plt.subplots(3, len(variances), figsize=(1.55 * len(variances) + 1.2, 5.2), squeeze=False,
                             layout="constrained")
    for j, variance in enumerate(variances):
        axes[0, j].set_title(f"σ² = {variance:g}", fontsize=10)
        for i, (name, maps) in enumerate(rows.items()):
            ax = axes[i, j]
            shown = ax.imshow(maps[j], cmap="gray" if name == "input" else "magma", vmin=0,
                              vmax=1 if name == "input" else limit, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name, fontsize=10)
            if name == "push-pull" and j == len(variances) - 1:
                fig.colorbar(shown, ax=axes[1:, :].ravel().tolist(), shrink=0.8,
                             label="response (one scale for both rows)")
    fig.suptitle("One edge detector across a noise ramp: plain convolution vs push-pull (α = "
                 f"{float(layer.alpha):g}, h = {layer.scale:g})", fontsize=11)
    return fig


# ----------------------------------------------------------------------------- Table 3
def plot_pair_mce(extra: Sequence[Mapping] = (), order: Sequence[str] | None = None) -> Figure:
    """Paper Table 3 as paired plots: for each architecture, plain (grey) -> push-pull (red), in mCE
    and in relative mCE (AlexNet = 100; lower is better), architectures ordered by clean error.

    Args:
        extra: more pairs below the paper's, e.g. this project's measurements, each
            ``{"label": str, "plain": (mCE, relative mCE), "pushpull": (mCE, relative mCE)}``;
            drawn with square markers and a separating line, since they were measured on other data.
        order: the paper's plain models to show (default: all of Table 3's pairs).
    """
    table = paper_summary(learned_alpha=False).set_index("model")
    models = list(order) if order is not None else _pairs(list(table.index))
    models = sorted(models, key=lambda m: -table.loc[m, "clean_error"])
    rows = [(m, (table.loc[m, "mCE"], table.loc[m, "relative_mCE"]),
             (table.loc[f"{m}-PP", "mCE"], table.loc[f"{m}-PP", "relative_mCE"]), "o") for m in models]
    rows += [(e["label"], tuple(e["plain"]), tuple(e["pushpull"]), "s") for e in extra]
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 0.42 * len(rows) + 1.6), sharey=True, layout="constrained")
    y = np.arange(len(rows))[::-1]
    for k, (ax, metric) in enumerate(zip(axes, ("mCE", "relative mCE"), strict=True)):
        for yi, (_, plain, pushpull, marker) in zip(y, rows, strict=True):
            ax.plot([plain[k], pushpull[k]], [yi, yi], color="0.75", lw=2, zorder=1)
            ax.scatter(plain[k], yi, color=PLAIN, marker=marker, s=45, zorder=2)
            ax.scatter(pushpull[k], yi, color=PUSHPULL, marker=marker, s=45, zorder=3)
            ax.annotate(f"{pushpull[k] - plain[k]:+.0f}", (max(plain[k], pushpull[k]), yi), xytext=(6, -3),
                        textcoords="offset points", fontsize=8, color="0.3")
        ax.axvline(100, color="0.6", ls=":", lw=1)
        ax.set_xlabel(f"{metric} (AlexNet = 100; lower is better)")
        ax.grid(axis="x", alpha=0.3)
        if extra:
            ax.axhline(len(extra) - 0.5, color="0.4", lw=0.8)
    axes[0].set_yticks(y, [r[0] for r in rows], fontsize=9)
    handles = [plt.Line2D([], [], marker="o", ls="", color=PLAIN, label="plain (paper, CIFAR-10-C)"),
               plt.Line2D([], [], marker="o", ls="", color=PUSHPULL, label="push-pull, -PP (paper)")]
    if extra:
        handles += [plt.Line2D([], [], marker="s", ls="", color="0.3", label="this project (other data, see labels)")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle("Table 3: push-pull in the first layer, plain -> push-pull (numbers: the change)", fontsize=11)
    return fig


# ----------------------------------------------------------------------------- Table 2
def plot_corruption_differences(extra: Mapping[str, Mapping[str, float]] | None = None) -> Figure:
    """Paper Table 2 as one heat map: push-pull minus plain error (points) per corruption, per pair;
    blue = push-pull better, red = worse. ``extra``: more rows, ``{label: {corruption: difference
    in points}}`` (e.g. this project's measurements), drawn below a line."""
    table = paper_table2(clean=False)
    wide = table.pivot_table(index="model", columns="corruption", values="error") * 100
    plains = _pairs(list(TABLE2_MODELS))
    rows = {m: wide.loc[f"{m}-PP"] - wide.loc[m] for m in plains}
    for label, values in (extra or {}).items():
        rows[label] = {c: values.get(c, np.nan) for c in CIFAR10C_ALL}
    matrix = np.array([[rows[r][c] for c in CIFAR10C_ALL] for r in rows], dtype=float)
    limit = np.nanmax(np.abs(matrix))
    fig, ax = plt.subplots(figsize=(11.5, 0.42 * len(rows) + 2.4), layout="constrained")
    shown = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if np.isfinite(matrix[i, j]):
                ax.text(j, i, f"{matrix[i, j]:.0f}" if abs(matrix[i, j]) >= 0.5 else "0", ha="center", va="center",
                        fontsize=8,
                        color="white" if abs(matrix[i, j]) > 0.6 * limit else "black")
    ax.set_xticks(range(len(CIFAR10C_ALL)), [c.replace("_", " ") for c in CIFAR10C_ALL], rotation=45, ha="right",
                  fontsize=9)
    ax.set_yticks(range(len(rows)), [f"{r}-PP − {r}" if r in plains else r for r in rows], fontsize=9)
    if extra:
        ax.axhline(len(plains) - 0.5, color="black", lw=1.2)
    fig.colorbar(shown, ax=ax, label="error difference (points); < 0: push-pull better", shrink=0.9)
    ax.set_title("Table 2: where push-pull helps and where it costs (mean error over the 5 severities)",
                 fontsize=11)
    return fig


# ----------------------------------------------------------------------------- Table 4
def plot_sensitivity(sweep: pandas.DataFrame | None = None, sweep_label: str = "") -> Figure:
    """Paper Table 4 (error of ResNet-14-PP variants vs noise variance, by alpha and h) as a heat map;
    with ``sweep`` (this project's MNIST alpha x h sweep: columns ``alpha, scale, corruption, level,
    accuracy``, several seeds averaged), its Gaussian-noise error beside it on its own scale."""
    paper = paper_sensitivity()
    paper = paper.assign(row=[("plain" if np.isnan(a) else f"α={a:g}, h={h:g}")
                              for a, h in zip(paper["alpha"], paper["scale"], strict=True)])
    paper_wide = paper.pivot_table(index="row", columns="variance", values="error", sort=False) * 100
    panels = [("Paper Table 4: CIFAR ResNet-14 (p. 11), error %", paper_wide, "σ² (Gaussian noise)", "viridis_r")]
    if sweep is not None:
        noisy = sweep[sweep["corruption"].isin(["clean", "mnist_gaussian_noise"])]
        noisy = noisy.assign(row=[("plain" if a == 0 else f"α={a:g}, h={h:g}")
                                  for a, h in zip(noisy["alpha"], noisy["scale"], strict=True)],
                             error=100 * (1 - noisy["accuracy"]),
                             level=noisy["level"].where(noisy["corruption"] != "clean", 0.0))
        order = ["plain"] + sorted(set(noisy["row"]) - {"plain"})
        wide = noisy.pivot_table(index="row", columns="level", values="error").reindex(order)
        panels.append((f"This project: {sweep_label}, error %", wide, "σ² (Gaussian noise)", "magma_r"))
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 0.36 * max(len(p[1]) for p in panels) + 2),
                             layout="constrained", squeeze=False)
    for ax, (title, wide, xlabel, cmap) in zip(axes[0], panels, strict=True):
        values = wide.to_numpy(dtype=float)
        shown = ax.imshow(values, cmap=cmap, aspect="auto")
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                ax.text(j, i, f"{values[i, j]:.1f}", ha="center", va="center", fontsize=8,
                        color="white" if values[i, j] > np.nanmean(values) else "black")
        ax.set_xticks(range(values.shape[1]), [f"{v:g}" for v in wide.columns], fontsize=8)
        ax.set_yticks(range(values.shape[0]), list(wide.index), fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize=10)
        fig.colorbar(shown, ax=ax, shrink=0.85)
    fig.suptitle("Table 4: how alpha and h change the error under noise (two different experiments: each panel "
                 "has its own colour map and scale)", fontsize=11)
    return fig


# ----------------------------------------------------------------------------- Table 5
def plot_learned_alpha() -> Figure:
    """Paper Table 5: clean error and E_corr for plain, fixed alpha = 1 and learned alpha."""
    table = paper_learned_alpha()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
    colors = {"none": PLAIN, "fixed 1": PUSHPULL, "learned": "#1f77b4"}
    for ax, (column, title) in zip(axes, (("clean_error", "clean error %"), ("corruption_error", "E_corr %")),
                                   strict=True):
        families = list(dict.fromkeys(m.split("-PP")[0] for m in table["model"]))
        for f, family in enumerate(families):
            part = table[table["model"].str.startswith(family)]
            for k, (alpha, value) in enumerate(zip(part["alpha"], part[column], strict=True)):
                x = f + (k - 1) * 0.26
                ax.bar(x, 100 * value, width=0.24, color=colors[alpha], label=alpha if f == 0 else None)
                ax.text(x, 100 * value, f"{100 * value:.1f}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(families)), families)
        ax.set_ylabel(title)
        ax.set_ylim(0, 100 * table[column].max() * 1.18)
    axes[0].legend(title="alpha", fontsize=8, frameon=False)
    fig.suptitle("Table 5 (p. 11): a learned alpha per channel vs the fixed alpha = 1", fontsize=11)
    return fig


# ----------------------------------------------------------------------------- MNIST
def plot_mnist_study(summary: pandas.DataFrame | None = None, label: str = "") -> Figure:
    """The paper's MNIST numbers (clean accuracy, and accuracy under Gaussian noise sigma^2 = 0.2, Sect.
    4.1.2) as crosses; with ``summary`` (this project's seed means and standard deviations: columns
    ``paper_name, clean_mean, clean_std, gauss_0.2_mean, gauss_0.2_std``) as dots with error bars."""
    paper = paper_mnist()
    names = list(dict.fromkeys(paper["model"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    panels = (("clean", "clean", "clean digits"), ("mnist_gaussian_noise", "gauss_0.2", "Gaussian noise σ² = 0.2"))
    for ax, (corruption, column, title) in zip(axes, panels, strict=True):
        part = paper[paper["corruption"] == corruption].set_index("model")
        x = np.arange(len(names))
        colors = [PUSHPULL if n.startswith("P") else PLAIN for n in names]
        ax.scatter(x - 0.12, 100 * part.loc[names, "accuracy"], marker="x", s=50, color=colors, zorder=3)
        if summary is not None:
            ours = summary.set_index("paper_name").loc[names]
            ax.errorbar(x + 0.12, ours[f"{column}_mean"], yerr=ours[f"{column}_std"], fmt="none", ecolor="0.5",
                        capsize=3, zorder=2)
            ax.scatter(x + 0.12, ours[f"{column}_mean"], s=30, color=colors, zorder=3)
        ax.set_xticks(x, names)
        ax.set_ylabel("accuracy %")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    handles = [plt.Line2D([], [], marker="x", ls="", color="0.3", label="paper (one run)")]
    if summary is not None:
        handles.append(plt.Line2D([], [], marker="o", ls="-", color="0.3", label=f"this project: {label}"))
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=9, frameon=False)
    fig.suptitle("MNIST (Sect. 4.1): LeNets A-D (grey) and their push-pull twins PA-PD (red)", fontsize=11)
    return fig
