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
                 "accuracy_vs_noise.png", "sweep_alpha_h.png", "runs.csv", "raw/lenet-a_seed0.csv",
                 "raw/lenet-a-pp_seed0.csv"):
        assert (out / name).is_file(), name
    results = pd.read_csv(out / "mnist_results.csv")
    assert set(results["paper_name"]) == {"A", "PA"} and (results["n"] == 1000).all()
    assert 0.2 in set(results["level"].dropna().round(6))  # the paper's quoted variance is in the grid
    sweep = pd.read_csv(out / "sweep.csv")
    assert sorted(sweep["alpha"].unique()) == [0.0, 0.5]  # alpha 0 = the plain run
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 4 and (runs["epochs"] == 1).all() and (runs["train_minutes"] > 0).all()
    page = (out / "README.md").read_text()
    assert "min of training over 4 runs" in page
    paired = pd.read_csv(out / "paired.csv")
    assert list(paired["pair"]) == ["PA - A"] and paired["seeds"].iloc[0] == 1
    per_seed = results[results.corruption == "clean"].set_index("pushpull")["accuracy"]
    assert paired["clean_diff_mean"].iloc[0] == pytest.approx(100 * (per_seed[True] - per_seed[False]))
    assert "## Push-pull minus plain, paired by seed" in page
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
    assert study_plan(sweep_seeds=[1, 2]).sweep_seeds == (1, 2)
    with pytest.raises(ValueError, match="sweep_seeds must not be empty"):
        study_plan(sweep_seeds=[])


def test_sweep_over_seeds_reuses_the_plain_run_for_h1(data_root, tmp_path):
    import dataclasses

    from pushpull_viz.reproduce import reproduce_mnist

    plan = dataclasses.replace(study_plan(quick=True, sweep_seeds=[0, 1]), sweep_alphas=(0.5,), sweep_scales=(1.0, 2.0))
    out = reproduce_mnist(tmp_path / "out", data_root, plan, runs=tmp_path / "runs", progress=False, command="test",
                          export_weights=tmp_path / "weights")
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    # plain and PA for seed 0, then the sweep: a0.5/h2 for seeds 0 and 1, and plain seed 1 (alpha 0 and h = 1)
    assert sorted(runs["run"]) == ["lenet-a-pp_a0.5_h2_seed0", "lenet-a-pp_a0.5_h2_seed1", "lenet-a-pp_a1_h2_seed0",
                                   "lenet-a_seed0", "lenet-a_seed1"]
    sweep = out["sweep"]
    cols = ["corruption", "severity", "accuracy"]
    for seed in (0, 1):
        plain = sweep[(sweep.seed == seed) & (sweep.alpha == 0.0)][cols].reset_index(drop=True)
        h1 = sweep[(sweep.seed == seed) & (sweep.scale == 1.0)][cols].reset_index(drop=True)
        assert len(plain) == 13 and plain.equals(h1)
    page = (tmp_path / "out" / "README.md").read_text()
    assert "seeds 0, 1; mean over seeds" in page and "Standard deviation over seeds" in page

    # the exported weights: the final weights of the only main seed, with the study's numbers on the card
    import torch

    from pushpull_viz.models import load_model_from_checkpoint

    results = out["results"]
    for name, pushpull in (("lenet-a-paper", False), ("lenet-a-pp-paper", True)):
        data = torch.load(tmp_path / "weights" / f"{name}.pt", weights_only=True)
        card = data["card"]
        assert card["seed"] == 0 and card["checkpoint_epoch"] == 1 and card["commands"] == ["test"]
        assert card["model"]["pushpull"] is pushpull and "chosen on the test set" in card["note"]
        clean = results[(results.pushpull == pushpull) & (results.corruption == "clean")]["accuracy"].iloc[0]
        percent = card["test_accuracy_percent"]["clean s0 (level -)"]
        assert card["test_accuracy"] == pytest.approx(clean) == percent / 100
        model = load_model_from_checkpoint(data)
        assert (type(model.conv1).__name__ == "PushPull2d") is pushpull
    assert "## lenet-a-pp-paper" in (tmp_path / "weights" / "README.md").read_text()


@pytest.mark.parametrize("model", ["lenet-a", "lenet-b", "lenet-c", "lenet-d"])
def test_a_seed_pairs_plain_and_pushpull_initial_weights(model):
    """What the paired table relies on: with the same seed, the plain and the push-pull LeNet
    start from identical weights (the push kernel is drawn like the plain convolution)."""
    import torch

    from pushpull_viz.models import build_model
    from pushpull_viz.train import seed_everything

    seed_everything(5)
    plain = build_model(model).state_dict()
    seed_everything(5)
    pushpull = build_model(model, pushpull=True).state_dict()
    renamed = {k.replace(".push.", "."): v for k, v in pushpull.items()}
    assert renamed.keys() == plain.keys() and all(torch.equal(renamed[k], plain[k]) for k in plain)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_h1_pushpull_lenet_is_the_plain_lenet(alpha):
    """Why the sweep reuses the plain run for h = 1: same seed, same initial weights, same outputs and the
    same gradients, so training follows the same path."""
    import torch

    from pushpull_viz.models import build_model

    torch.manual_seed(3)
    plain = build_model("lenet-a").double()
    torch.manual_seed(3)
    pushpull = build_model("lenet-a", pushpull=True, alpha=alpha, scale=1.0).double()
    plain_state, pp_state = plain.state_dict(), pushpull.state_dict()
    renamed = {k.replace(".push.", "."): v for k, v in pp_state.items() if "alpha" not in k}
    assert renamed.keys() == plain_state.keys()
    assert all(torch.equal(renamed[k], plain_state[k]) for k in plain_state)  # same initialisation
    x = torch.rand(16, 1, 28, 28, dtype=torch.float64) + 0.3 * torch.randn(16, 1, 28, 28, dtype=torch.float64)
    target = torch.randint(0, 10, (16,))
    losses = [torch.nn.functional.cross_entropy(m(x), target) for m in (plain, pushpull)]
    for loss in losses:
        loss.backward()
    assert torch.equal(losses[0], losses[1])
    grads = {n.replace(".push.", "."): p.grad for n, p in pushpull.named_parameters() if p.grad is not None}
    for name, param in plain.named_parameters():
        torch.testing.assert_close(grads[name], param.grad, rtol=1e-12, atol=1e-14)


def test_cifar_pair_is_trained_tested_beside_other_checkpoints_and_reused(data_root, official_checkpoints, tmp_path,
                                                                          capsys):
    """`reproduce cifar10-jpeg75` end to end on a few images: the pair, the authors' checkpoint on the same
    corrupted images, all 19 x 5 sets, the tables; a rerun reuses the finished runs."""
    out, runs = tmp_path / "out", tmp_path / "runs"
    authors = official_checkpoints / "resnet-20" / "model_best.pth.tar"
    argv = ["reproduce", "cifar10-jpeg75", "--out", str(out), "--runs", str(runs), "--epochs", "1",
            "--train-subset", "128", "--test-subset", "20", "--device", "cpu", "--no-progress",
            "--data-root", str(data_root), "--compare", f"ResNet-20 (authors)={authors}"]
    assert main(argv) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["model"]) == ["ResNet-20 (this project)", "ResNet-20-PP (this project)", "ResNet-20 (authors)"]
    assert (summary["n_corruptions"] == 19).all()
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 3 * (1 + 19 * 5) and (results["n"] == 20).all()
    epochs = pd.read_csv(out / "epochs.csv")
    assert list(epochs["model"]) == ["ResNet-20 (this project)", "ResNet-20-PP (this project)"]
    context = (out / "context.json").read_text()
    assert "JPEG-75 copy of CIFAR-10 (not CIFAR-10)" in context and '"train_images": 128' in context
    assert (out / "commands.txt").read_text().startswith("pushpull-viz reproduce cifar10-jpeg75")
    capsys.readouterr()
    assert main(argv) == 0
    assert capsys.readouterr().out.count("reusing the finished run") == 2


@pytest.mark.parametrize("extra,message", [
    (["--quick"], "--quick belong to the mnist study"),
    (["--compare", "no-label.pt"], "--compare takes LABEL=CHECKPOINT"),
    (["--epochs", "0"], "--epochs must be a positive integer"),
])
def test_cifar_study_argument_errors(extra, message, tmp_path, capsys):
    assert main(["reproduce", "cifar10-jpeg75", "--out", str(tmp_path / "o"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_mnist_study_refuses_cifar_options(tmp_path, capsys):
    assert main(["reproduce", "mnist", "--out", str(tmp_path / "o"), "--recipe", "resnet-gpu"]) == 2
    assert "belong to the cifar10-jpeg75 study" in capsys.readouterr().err
