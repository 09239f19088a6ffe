"""Robustness figures: panels, lines and bars as the tables say; paper bars only where the paper has numbers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from pushpull_viz.paper import TABLE2_PERCENT, TABLE3_PERCENT  # noqa: E402
from pushpull_viz.robustness import summary_table  # noqa: E402
from pushpull_viz.viz.robustness_plots import (  # noqa: E402
    plot_corruption_errors,
    plot_error_vs_severity,
    plot_mce_bars,
)

CORRUPTIONS = ["gaussian_noise", "fog", "contrast"]



@pytest.fixture
def results() -> pd.DataFrame:
    """Two models; errors grow with severity; the push-pull one is 5 points better on corruptions."""
    rows = []
    for model, clean, gain in (("resnet-20", 0.08, 0.0), ("resnet-20-pp", 0.09, 0.05)):
        rows.append({"model": model, "corruption": "clean", "severity": 0, "level": None, "accuracy": 1 - clean,
                     "error": clean, "n": 100})
        for index, corruption in enumerate(CORRUPTIONS):
            for severity in range(1, 6):
                error = 0.1 + 0.05 * severity + 0.02 * index - gain
                rows.append({"model": model, "corruption": corruption, "severity": severity, "level": severity / 10,
                             "accuracy": 1 - error, "error": error, "n": 100})
    return pd.DataFrame(rows)


def _visible(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


# ------------------------------------------------------------------------------- error vs severity
def test_error_vs_severity_panels_lines_and_labels(results):
    fig = plot_error_vs_severity(results, col_wrap=2)
    axes = _visible(fig)
    assert [ax.get_title() for ax in axes] == ["gaussian noise", "fog", "contrast"]
    assert len(fig.axes) == 4 and not fig.axes[3].get_visible()  # a 2x2 grid, the spare panel hidden
    assert all(ax.get_ylabel() == "top-1 error (%)" for ax in (axes[0], axes[2]))
    assert axes[2].get_xlabel() == "severity" and axes[1].get_xlabel() == "severity"
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[2])
    assert fig.get_suptitle() and fig.legends and "clean error" in " ".join(t.get_text() for t in fig.legends[0].texts)
    for ax, index in zip(axes, range(3), strict=True):
        solid = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
        dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert len(solid) == 2 and len(dashed) == 2
        np.testing.assert_allclose(solid[0].get_xdata(), [1, 2, 3, 4, 5])
        np.testing.assert_allclose(solid[0].get_ydata(), [100 * (0.1 + 0.05 * s + 0.02 * index) for s in range(1, 6)])
        np.testing.assert_allclose(solid[1].get_ydata(), solid[0].get_ydata() - 5)
        assert sorted(line.get_ydata()[0] for line in dashed) == pytest.approx([8, 9])
        assert dashed[0].get_color() == solid[0].get_color()  # the clean line has the model's colour


def test_error_vs_severity_subsets_and_no_clean(results):
    fig = plot_error_vs_severity(results[results["corruption"] != "clean"], corruptions=["fog"],
                                 models=["resnet-20-pp"])
    (ax,) = _visible(fig)
    assert ax.get_title() == "fog" and len(ax.get_lines()) == 1  # no clean rows: no dashed line


def test_error_vs_severity_averages_repeated_rows(results):
    doubled = pd.concat([results, results.assign(error=results["error"] + 0.1)])
    fig = plot_error_vs_severity(doubled, corruptions=["fog"], models=["resnet-20"])
    line = _visible(fig)[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [100 * (0.17 + 0.05 * s) for s in range(1, 6)])


def test_error_vs_severity_errors(results):
    with pytest.raises(ValueError, match=r"missing columns \['severity'\].*evaluate"):
        plot_error_vs_severity(results.drop(columns="severity"))
    with pytest.raises(ValueError, match=r"corruptions: \['snow'\] not in the table; it has gaussian_noise, fog"):
        plot_error_vs_severity(results, corruptions=["snow"])
    with pytest.raises(ValueError, match=r"models: \['vgg'\]"):
        plot_error_vs_severity(results, models=["vgg"])
    with pytest.raises(ValueError, match="only 'clean'"):
        plot_error_vs_severity(results[results["corruption"] == "clean"])
    with pytest.raises(TypeError, match="DataFrame"):
        plot_error_vs_severity(results.to_dict())
    with pytest.raises(ValueError, match="col_wrap"):
        plot_error_vs_severity(results, col_wrap=0)


# ------------------------------------------------------------------------------- mCE bars
def _gids(ax, prefix):
    return [p.get_gid() for p in ax.patches if (p.get_gid() or "").startswith(prefix)]


def test_mce_bars_with_paper_values_where_they_exist(results):
    summary = summary_table(results)
    fig = plot_mce_bars(summary, paper={"resnet-20": "ResNet-20"})
    mce, rce = fig.axes[:2]
    assert _gids(mce, "ours:") == ["ours:resnet-20", "ours:resnet-20-pp"]
    assert _gids(mce, "paper:") == ["paper:resnet-20"] == _gids(rce, "paper:")  # none for the unmapped model
    heights = {p.get_gid(): p.get_height() for p in mce.patches}
    assert heights["paper:resnet-20"] == 104
    assert heights["ours:resnet-20-pp"] == pytest.approx(summary.set_index("model").loc["resnet-20-pp", "mCE"])
    assert {p.get_gid(): p.get_height() for p in rce.patches}["paper:resnet-20"] == 169
    paper_bar = next(p for p in mce.patches if p.get_gid() == "paper:resnet-20")
    assert paper_bar.get_hatch() and paper_bar.get_alpha() < 1
    assert "mCE" in mce.get_ylabel() and "%" in mce.get_ylabel() and "relative" in rce.get_ylabel()
    assert mce.get_title() and rce.get_title() and fig.get_suptitle()
    assert "ours over 3 corruption(s), paper over all 19" in fig.get_suptitle()
    legend = " ".join(t.get_text() for t in fig.legends[0].texts)
    assert "paper" in legend and "ours" in legend and "AlexNet" in legend


def test_mce_bars_auto_names_and_no_paper(results):
    summary = summary_table(results)
    auto = plot_mce_bars(summary, paper="auto")
    assert _gids(auto.axes[0], "paper:") == ["paper:resnet-20", "paper:resnet-20-pp"]
    plain = plot_mce_bars(summary)
    assert _gids(plain.axes[0], "paper:") == [] and not any(p.get_hatch() for p in plain.axes[0].patches)
    assert "paper" not in " ".join(t.get_text() for t in plain.legends[0].texts)


def test_mce_bars_skip_models_the_paper_has_no_mce_for(results):
    summary = summary_table(results)
    fig = plot_mce_bars(summary, paper={"resnet-20": "ResNet-20-PPa", "resnet-20-pp": "ResNet-20-PP"})
    assert _gids(fig.axes[0], "paper:") == ["paper:resnet-20-pp"]  # Table 5 reports no mCE for PPa


def test_mce_bars_errors(results):
    summary = summary_table(results)
    with pytest.raises(ValueError, match=r"paper: the paper's table has no model \['ResNet-21'\]"):
        plot_mce_bars(summary, paper={"resnet-20": "ResNet-21"})
    with pytest.raises(ValueError, match=r"missing columns \['relative_mCE'\].*summary_table"):
        plot_mce_bars(summary.drop(columns="relative_mCE"))
    with pytest.raises(ValueError, match="paper must be a mapping"):
        plot_mce_bars(summary, paper="yes")


# ------------------------------------------------------------------------------- per-corruption bars
def test_corruption_errors_ours_and_paper(results):
    fig = plot_corruption_errors(results, paper={"resnet-20": "ResNet-20", "resnet-20-pp": "ResNet-20-PP"})
    (ax,) = fig.axes
    groups = ["clean"] + CORRUPTIONS
    assert [t.get_text() for t in ax.get_xticklabels()] == ["clean", "gaussian noise", "fog", "contrast"]
    assert len(_gids(ax, "ours:")) == 8 and len(_gids(ax, "paper:")) == 8
    heights = {p.get_gid(): p.get_height() for p in ax.patches}
    assert heights["ours:resnet-20:fog"] == pytest.approx(100 * (0.1 + 0.15 + 0.02))  # mean over severities
    assert heights["paper:resnet-20-pp:gaussian_noise"] == pytest.approx(TABLE2_PERCENT["gaussian_noise"][1])
    assert heights["paper:resnet-20:clean"] == pytest.approx(TABLE3_PERCENT["ResNet-20"][0])
    # bars sit in their group, ours left of the paper's
    x = {p.get_gid(): p.get_x() + p.get_width() / 2 for p in ax.patches}
    for index, corruption in enumerate(groups):
        assert index - 0.4 < x[f"ours:resnet-20:{corruption}"] < x[f"paper:resnet-20:{corruption}"] < index + 0.4
    assert "%" in ax.get_ylabel() and ax.get_xlabel() == "corruption" and "Table 2" in ax.get_title()
    assert len(ax.get_legend().texts) == 4


def test_corruption_errors_paper_bars_only_where_the_paper_has_numbers(results):
    extra = results[results["corruption"] == "fog"].assign(corruption="mnist_gaussian_noise")
    fig = plot_corruption_errors(pd.concat([results, extra]), paper={"resnet-20": "ResNet-20"}, models=["resnet-20"])
    ax = fig.axes[0]
    assert "ours:resnet-20:mnist_gaussian_noise" in _gids(ax, "ours:")
    assert not any(g.endswith("mnist_gaussian_noise") for g in _gids(ax, "paper:"))
    assert len(_gids(ax, "paper:")) == 4
    ours_only = plot_corruption_errors(results, corruptions=["fog", "contrast"])
    assert len(ours_only.axes[0].patches) == 4 and _gids(ours_only.axes[0], "paper:") == []


def test_corruption_errors_errors(results):
    with pytest.raises(ValueError, match=r"missing columns \['error'\]"):
        plot_corruption_errors(results.drop(columns="error"))
    with pytest.raises(ValueError, match=r"models: \['densenet'\]"):
        plot_corruption_errors(results, models=["densenet"])
    with pytest.raises(ValueError, match="is empty"):
        plot_corruption_errors(results.iloc[:0])
