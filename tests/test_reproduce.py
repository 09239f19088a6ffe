"""`pushpull-viz reproduce mnist`: the pipeline end to end in quick mode, reuse on rerun, plan checks."""

from __future__ import annotations

import pandas as pd
import pytest

from pushpull_viz.cli import main
from pushpull_viz.reproduce import study_plan


def test_quick_study_writes_the_results_page_and_reuses_runs(data_root, tmp_path, capsys):
    argv = ["reproduce", "mnist", "--quick", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs"),
            "--data-root", str(data_root), "--no-progress"]
    assert main(argv) == 0
    out = tmp_path / "out"
    for name in ("README.md", "mnist_results.csv", "sweep.csv", "summary.csv", "commands.txt",
                 "accuracy_vs_noise.png", "sweep_alpha_h.png", "raw/lenet-a_seed0.csv", "raw/lenet-a-pp_seed0.csv"):
        assert (out / name).is_file(), name
    results = pd.read_csv(out / "mnist_results.csv")
    assert set(results["paper_name"]) == {"A", "PA"} and (results["n"] == 1000).all()
    assert 0.2 in set(results["level"].dropna().round(6))  # the paper's quoted variance is in the grid
    sweep = pd.read_csv(out / "sweep.csv")
    assert sorted(sweep["alpha"].unique()) == [0.0, 0.5]  # alpha 0 = the plain run
    page = (out / "README.md").read_text()
    assert "| A | 1 |" in page and "98.93" in page and "87.10" in page  # ours beside the paper's numbers
    assert "quick mode: a smoke test" in page and "reproduce mnist --quick" in (out / "commands.txt").read_text()
    capsys.readouterr()
    assert main(argv) == 0
    assert capsys.readouterr().out.count("reusing the finished run") == 4
    assert pd.read_csv(out / "mnist_results.csv").equals(results)  # same runs, same noise: same numbers


def test_plan_checks():
    plan = study_plan()
    assert plan.recipe.name == "lenet-paper" and plan.recipe.epochs == 90 and plan.seeds == (0, 1, 2)
    assert study_plan(epochs=12).recipe.milestones == (4, 8)
    with pytest.raises(ValueError, match="models must be among"):
        study_plan(models=["resnet20"])
    with pytest.raises(ValueError, match="seeds must not be empty"):
        study_plan(seeds=[])
    assert study_plan(sweep=False).sweep_alphas == ()
