"""The command line: help, readable one-line errors, the official-checkpoint job."""

from __future__ import annotations

import csv
import subprocess
import sys

import pandas as pd
import pytest
import torch

from pushpull_viz.cli import main


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "official" in capsys.readouterr().out


def test_models_command(capsys):
    assert main(["models"]) == 0
    assert "resnet20" in capsys.readouterr().out


def test_error_is_one_line_without_traceback(monkeypatch, tmp_path):
    monkeypatch.delenv("PUSHPULL_DATA", raising=False)
    result = subprocess.run([sys.executable, "-m", "pushpull_viz.cli", "official", "--checkpoints", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "model_best.pth.tar" in result.stderr


def test_official_job_writes_table(official_checkpoints, data_root, tmp_path, capsys):
    code = main(["official", "--checkpoints", str(official_checkpoints), "--data-root", str(data_root),
                 "--per-class", "5", "--out", str(tmp_path)])
    assert code == 0
    rows = list(csv.DictReader(open(tmp_path / "official_checkpoints.csv")))
    assert {r["checkpoint"] for r in rows} == {"resnet-20", "resnet-20-pp", "densenet-40-12", "densenet-40-12-pp"}
    assert all(r["dataset"] == "CIFAR-10 (JPEG-75 copy)" and r["n_images"] == "50" for r in rows)


# ------------------------------------------------------------------------- train / evaluate / demo


def test_subcommands_have_help(capsys):
    for command in ("train", "evaluate", "demo", "official", "models"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
    assert "--resume" in capsys.readouterr().out


def test_train_then_evaluate(data_root, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--model", "lenet-d", "--pushpull", "--alpha", "0.5", "--dataset", "mnist",
            "--recipe", "lenet-quick", "--epochs", "2", "--train-subset", "600", "--test-subset", "200",
            "--out", str(run), "--data-root", str(data_root), "--no-progress"]
    assert main(args) == 0
    assert "best test accuracy" in capsys.readouterr().out
    assert {"last.pt", "best.pt", "metrics.csv", "metrics.jsonl", "config.json"} <= {p.name for p in run.iterdir()}
    # running it again must not silently overwrite the run
    assert main(args) == 2
    assert "--resume" in (err := capsys.readouterr().err) and "--overwrite" in err  # the flags, named
    assert main(args + ["--resume"]) == 0  # already finished: nothing to do, no error
    table = tmp_path / "eval.csv"
    assert main(["evaluate", "--checkpoint", str(run / "best.pt"), "--dataset", "mnist", "--subset", "200",
                 "--corruptions", "mnist", "--severities", "1", "2", "--out", str(table),
                 "--data-root", str(data_root), "--no-progress"]) == 0
    rows = list(csv.DictReader(open(table)))
    assert [(r["corruption"], r["severity"]) for r in rows] == [
        ("clean", "0"), ("mnist_gaussian_noise", "1"), ("mnist_gaussian_noise", "2"),
        ("mnist_poisson_contrast", "1"), ("mnist_poisson_contrast", "2")]
    assert all(r["dataset"] == "MNIST test" and r["n"] == "200" for r in rows)


def test_evaluate_authors_checkpoints(official_checkpoints, data_root, capsys):
    files = [str(official_checkpoints / name / "model_best.pth.tar") for name in ("resnet-20", "resnet-20-pp")]
    assert main(["evaluate", "--checkpoint", *files, "--dataset", "cifar10-jpeg75", "--subset", "100",
                 "--data-root", str(data_root), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "resnet-20-pp" in out and "clean" in out and "summary" not in out  # clean only: no mCE


def test_evaluate_cifar10c_suite_with_summary(official_checkpoints, data_root, tmp_path, capsys):
    files = [str(official_checkpoints / name / "model_best.pth.tar") for name in ("resnet-20", "resnet-20-pp")]
    out_csv = tmp_path / "r20.csv"
    assert main(["evaluate", "--checkpoint", *files, "--dataset", "cifar10-jpeg75", "--subset", "20",
                 "--corruptions", "cifar10-c", "--data-root", str(data_root), "--no-progress",
                 "--out", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "normalised by alexnet-cifar (paper), over 19 corruptions" in out
    assert "above 100 is worse than that AlexNet" in out
    results = pd.read_csv(out_csv)
    assert len(results) == 2 * (1 + 19 * 5) and set(results["model"]) == {"resnet-20", "resnet-20-pp"}
    summary = pd.read_csv(tmp_path / "r20_summary.csv")
    assert list(summary["model"]) == ["resnet-20", "resnet-20-pp"] and (summary["n_corruptions"] == 19).all()
    assert summary["mCE"].between(20, 400).all() and summary["baseline"].str.contains("alexnet").all()
    # the same table normalised by the plain model: its own mCE is exactly 100
    assert main(["evaluate", "--checkpoint", *files, "--dataset", "cifar10-jpeg75", "--subset", "20",
                 "--corruptions", "gaussian_noise", "fog", "--severities", "2", "--baseline", "resnet-20",
                 "--data-root", str(data_root), "--no-progress", "--out", str(tmp_path / "b.csv")]) == 0
    by_plain = pd.read_csv(tmp_path / "b_summary.csv").set_index("model")
    assert by_plain.loc["resnet-20", "mCE"] == pytest.approx(100)
    assert by_plain.loc["resnet-20-pp", "baseline"] == "resnet-20"


@pytest.mark.parametrize("argv,message", [
    (["train", "--model", "lenet-z", "--dataset", "mnist", "--out", "x"], "unknown model name 'lenet-z'"),
    (["train", "--model", "resnet20", "--dataset", "mnist", "--out", "x"],
     "takes 3x32x32 images but MNIST train has 1x28x28"),
    (["train", "--model", "lenet-a", "--alpha", "0.5", "--dataset", "mnist", "--out", "x"], "need --pushpull"),
    (["train", "--model", "lenet-a", "--dataset", "mnist-c", "--out", "x"], "unknown dataset 'mnist-c'"),
    (["evaluate", "--checkpoint", "missing.pt", "--dataset", "mnist"], "checkpoint file not found"),
    (["evaluate", "--checkpoint", "missing.pt", "--dataset", "mnist", "--corruptions", "fog2"],
     "unknown corruption or suite 'fog2'. Did you mean 'fog'"),
    (["evaluate", "--checkpoint", "missing.pt", "--dataset", "mnist", "--corruptions", "cifar10c"],
     "Did you mean 'cifar10-c'"),
])
def test_cli_errors_are_one_readable_line(argv, message, data_root, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv + ["--data-root", str(data_root)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_demo_end_to_end_and_reuse(data_root, tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--epochs", "1", "--train-subset", "1000", "--test-subset", "200",
            "--data-root", str(data_root), "--no-progress"]
    assert main(args) == 0
    names = {p.name for p in out.iterdir()}
    assert {"report.md", "report.html", "robustness.csv", "summary.csv", "training_curves.png",
            "accuracy_vs_noise.png", "examples_mnist_gaussian_noise.png",
            "examples_mnist_poisson_contrast.png"} <= names
    report = (out / "report.md").read_text()
    assert "LeNet-A-PP" in report and "MNIST test, 200 images" in report and "same seed (0)" in report
    assert "This run's answer:" in report and "The paper reports 87.1% against 86.5%" in report
    page = (out / "report.html").read_text()
    assert "`" not in page and "<table>" in page and '<img alt="accuracy against the noise level"' in page
    assert page.index("accuracy_vs_noise.png") < page.index("Accuracy against the noise level, one line")  # caption
    rows = list(csv.DictReader(open(out / "robustness.csv")))
    assert len(rows) == 2 * (1 + 7 + 5)
    capsys.readouterr()
    assert main(args) == 0  # a second run reuses the finished training runs
    assert capsys.readouterr().out.count("reusing the finished run") == 2


def test_demo_resumes_an_interrupted_training_run(data_root, tmp_path, capsys):
    from pushpull_viz import build_model
    from pushpull_viz.data import load_dataset
    from pushpull_viz.train import fit, seed_everything

    class Stop(Exception):
        pass

    def stop(state):
        if state["epoch"] == 1:
            raise Stop

    train = load_dataset("mnist", "train", data_root)
    test = load_dataset("mnist", "test", data_root)
    g = torch.Generator().manual_seed(0)  # the demo's subsets: the same generator, train first
    train, test = train.subset(torch.randperm(len(train), generator=g)[:600]), test.subset(
        torch.randperm(len(test), generator=g)[:100])
    out = tmp_path / "demo"
    seed_everything(0)
    with pytest.raises(Stop):  # the plain run dies in its second epoch
        fit(build_model("lenet-a"), (train, test), "lenet-quick", epochs=2, out=out / "runs" / "lenet-a", seed=0,
            progress=False, dataset="mnist", on_step=stop)
    assert main(["demo", "--out", str(out), "--epochs", "2", "--train-subset", "600", "--test-subset", "100",
                 "--data-root", str(data_root), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "resuming the unfinished run" in printed and "(epoch 1 of 2)" in printed
    assert len(list(csv.DictReader(open(out / "runs" / "lenet-a" / "metrics.csv")))) == 2


def test_demo_without_data_or_network_says_how_to_point_at_local_data(tmp_path, monkeypatch, capsys):
    from torchvision import datasets

    def offline(self, *args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.delenv("PUSHPULL_DATA", raising=False)
    monkeypatch.setenv("PUSHPULL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets.MNIST, "download", offline)
    assert main(["demo", "--out", str(tmp_path / "demo"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--data-root" in err and "PUSHPULL_DATA" in err and err.count("\n") == 1


def test_killed_training_process_resumes_to_the_same_weights(data_root, tmp_path):
    """Kill -9 a real `pushpull-viz train` process after its first epoch, resume it, and
    compare with an uninterrupted run."""
    import os
    import signal
    import time

    import torch

    def command(out, *extra):
        return [sys.executable, "-m", "pushpull_viz.cli", "train", "--model", "lenet-b", "--pushpull",
                "--dataset", "mnist", "--recipe", "lenet-quick", "--epochs", "3", "--train-subset", "15000",
                "--test-subset", "500", "--out", str(out), "--data-root", str(data_root), "--no-progress",
                "--seed", "3", *extra]

    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run(command(tmp_path / "whole"), check=True, env=env, capture_output=True)
    process = subprocess.Popen(command(tmp_path / "killed"), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    last = tmp_path / "killed" / "last.pt"
    deadline = time.time() + 120
    while not last.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert torch.load(last, weights_only=True)["epoch"] < 3
    subprocess.run(command(tmp_path / "killed", "--resume"), check=True, env=env, capture_output=True)
    whole = torch.load(tmp_path / "whole" / "last.pt", weights_only=True)["model"]
    resumed = torch.load(last, weights_only=True)["model"]
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)


def test_evaluate_on_released_files(official_checkpoints, tmp_path, monkeypatch, capsys):
    """--released reads the published layout (a tiny fake here: 4 images per severity)."""
    import numpy as np

    from pushpull_viz.corruptions import released

    monkeypatch.setattr(released, "CIFAR10C_IMAGES_PER_SEVERITY", 4)
    folder = tmp_path / "CIFAR-10-C"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("fog", "gaussian_noise"):
        np.save(folder / f"{name}.npy", rng.integers(0, 256, (20, 32, 32, 3)).astype(np.uint8))
    np.save(folder / "labels.npy", rng.integers(0, 10, 20).astype(np.uint8))
    checkpoint = str(official_checkpoints / "resnet-20" / "model_best.pth.tar")
    out_csv = tmp_path / "released.csv"
    assert main(["evaluate", "--checkpoint", checkpoint, "--released", str(tmp_path), "--severities", "1", "5",
                 "--no-progress", "--out", str(out_csv)]) == 0
    results = pd.read_csv(out_csv)
    assert results["corruption"].tolist() == ["gaussian_noise"] * 2 + ["fog"] * 2 and (results["n"] == 4).all()
    assert "cifar10-c (released files)" in capsys.readouterr().out
    assert main(["evaluate", "--checkpoint", checkpoint, "--released", str(tmp_path), "--dataset", "cifar10-jpeg75",
                 "--data-root", str(official_checkpoints.parents[1] / "data"), "--no-progress"]) == 2
    assert "has 10000 test images, the released files 4 per severity" in capsys.readouterr().err
    assert main(["evaluate", "--checkpoint", checkpoint, "--released", str(tmp_path / "nope"), "--no-progress"]) == 2
    assert "download_released" in capsys.readouterr().err


def test_grade_and_explorer_refuse_bad_paths_before_any_work(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nope.txt")]) == 2
    assert "expected a .ipynb file or a folder of them" in capsys.readouterr().err
    assert main(["explorer", "--out", str(tmp_path)]) == 2  # a folder, not a file
    assert capsys.readouterr().err.count("\n") == 1


def test_a_busy_machine_gets_a_hint_for_long_cpu_jobs(monkeypatch, capsys):
    from pushpull_viz.cli import _busy_machine_hint

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setattr("os.getloadavg", lambda: (8.0, 8.0, 8.0))
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    _busy_machine_hint("demo")
    assert "busy (load average 8.0 on 4 cores)" in capsys.readouterr().out
    _busy_machine_hint("models")  # not a long CPU job
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # already the user's choice
    _busy_machine_hint("train")
    monkeypatch.delenv("OMP_WAIT_POLICY")
    monkeypatch.setattr("os.getloadavg", lambda: (1.0, 1.0, 1.0))  # a quiet machine
    _busy_machine_hint("train")
    assert capsys.readouterr().out == ""
