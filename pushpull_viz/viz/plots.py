"""Plots of training logs and robustness tables (tidy DataFrames in, matplotlib figures out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

__all__ = ["plot_accuracy_vs_level", "plot_corruption_examples", "plot_training_curves"]


def plot_training_curves(histories: Mapping[str, pandas.DataFrame]):  # noqa: F821
    """Training loss and held-out accuracy per epoch, one line per model (legend title "model").

    Args:
        histories: ``{model name: fit history}`` (``FitResult.history`` or ``metrics.csv``).
    """
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    frame = pd.concat([h.assign(model=name) for name, h in histories.items()], ignore_index=True)
    has_test = "test_accuracy" in frame
    fig, axes = plt.subplots(1, 2 if has_test else 1, figsize=(9 if has_test else 4.5, 3.2), squeeze=False)
    sns.lineplot(frame, x="epoch", y="train_loss", hue="model", marker="o", ax=axes[0, 0])
    axes[0, 0].set(yscale="log", ylabel="training loss", title="Does training converge?")
    if has_test:
        sns.lineplot(frame.assign(test_percent=100 * frame["test_accuracy"]), x="epoch", y="test_percent",
                     hue="model", marker="o", ax=axes[0, 1])
        axes[0, 1].set(ylabel="test accuracy (%)", title="How accurate on clean test images?")
    from matplotlib.ticker import MaxNLocator

    for ax in axes.flat:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    fig.tight_layout()
    return fig


def plot_accuracy_vs_level(results: pandas.DataFrame, corruptions: Sequence[str] | None = None,  # noqa: F821
                           parameter_names: Mapping[str, str] | None = None, titles: Mapping[str, str] | None = None):
    """Accuracy against corruption level, one panel per corruption, one line per model.

    The panels share one y-axis, from a round number below the lowest accuracy to 100%, so a gap
    looks as large in every panel as it is.

    Args:
        results: :func:`pushpull_viz.robustness.evaluate` output; each panel starts with the
            model's clean accuracy (drawn at level 0 for noise, at 1 for contrast-like levels).
        corruptions: which corruptions to draw (default: all in the table).
        parameter_names: x-axis label per corruption.
        titles: panel title per corruption (default: the corruption's name).
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    corruptions = list(corruptions or [c for c in results["corruption"].unique() if c != "clean"])
    fig, axes = plt.subplots(1, len(corruptions), figsize=(4.5 * len(corruptions), 3.4), squeeze=False, sharey=True)
    clean = results[results["corruption"] == "clean"].set_index("model")["accuracy"]
    for ax, name in zip(axes[0], corruptions, strict=True):
        part = results[results["corruption"] == name].copy()
        part["accuracy (%)"] = 100 * part["accuracy"]
        sns.lineplot(part, x="level", y="accuracy (%)", hue="model", marker="o", ax=ax)
        # seaborn may add lines (error bands) after the models
        for line, model in zip(ax.get_lines(), part["model"].unique(), strict=False):
            if model in clean.index:
                ax.axhline(100 * clean[model], color=line.get_color(), linestyle=":", linewidth=1)
        ax.set(title=(titles or {}).get(name, name.replace("_", " ")),
               xlabel=(parameter_names or {}).get(name, "level"))
        handles, labels = ax.get_legend_handles_labels()
        dotted = plt.Line2D([], [], color="0.4", linestyle=":", linewidth=1)
        ax.legend(handles + [dotted], labels + ["clean accuracy"], title="model", fontsize=8, title_fontsize=8)
        levels = part.sort_values("severity")["level"].drop_duplicates()
        if len(levels) > 1 and levels.is_monotonic_decreasing:
            ax.invert_xaxis()  # e.g. contrast: a lower level is a harder one, so harder stays to the right
    shown = results[results["corruption"].isin([*corruptions, "clean"])]["accuracy"]
    axes[0, 0].set_ylim(max(0.0, 10 * ((100 * shown.min() - 2) // 10)), 100.5)
    fig.tight_layout()
    return fig


def plot_corruption_examples(images: Tensor, corruption: str, severities: Sequence[int] | None = None,
                             seed: int = 0, parameter: str | None = None, title: str | None = None):
    """A grid: rows are images, columns the clean image then each severity of ``corruption``
    (``title``: the figure's title, default the corruption's name)."""
    import matplotlib.pyplot as plt

    from ..corruptions import corrupt, corruption_generator, corruption_info, corruption_level

    info = corruption_info(corruption)
    severities = list(severities or info.severities)
    images = images[:6]
    # the generator evaluate() uses for the same (seed, corruption, severity)
    columns = [images] + [corrupt(images, corruption, s, corruption_generator(seed, corruption, s, images.device))
                          for s in severities]
    symbol = (parameter or info.parameter.split()[-1]).replace("sigma^2", "σ²")
    titles = ["clean"] + [f"{symbol}={corruption_level(corruption, s)}" for s in severities]
    fig, axes = plt.subplots(len(images), len(columns), figsize=(1.1 * len(columns), 1.1 * len(images)), squeeze=False)
    for j, (column, column_title) in enumerate(zip(columns, titles, strict=True)):
        column = column.float() / 255 if column.dtype == torch.uint8 else column
        for i in range(len(images)):
            picture = column[i].permute(1, 2, 0).cpu().numpy()
            axes[i, j].imshow(picture.squeeze(-1) if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=1)
            axes[i, j].set_axis_off()
        axes[0, j].set_title(column_title, fontsize=8)
    fig.suptitle(title or corruption, fontsize=10)
    fig.tight_layout()
    return fig
