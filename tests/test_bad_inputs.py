"""The bad-input sweep: what a new user gets wrong, tried area by area, and what the package must answer.

Every case asserts the kind of error, that its message names the argument, file or folder and the
expected form, and, where files are involved, that nothing was written, lost or left half-written.
A bad input found later gets a line here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from pushpull_viz import PushPull2d, build_model
from pushpull_viz.cli import main
from pushpull_viz.corruptions import (
    CIFAR10C_ALL,
    corrupt,
    corrupt_at_level,
    corruption_level,
    list_corruptions,
    open_released,
)
from pushpull_viz.data import load_dataset
from pushpull_viz.io import LOCK_NAME, FolderInUseError, FolderLock, check_output_file, check_output_folder
from pushpull_viz.layers import push_pull2d
from pushpull_viz.models import CheckpointMismatchError, load_checkpoint, load_model_from_checkpoint
from pushpull_viz.robustness import evaluate
from pushpull_viz.train import fit

from conftest import write_idx


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("PUSHPULL_CACHE", str(folder))
    return folder


@pytest.fixture
def tiny_mnist(tmp_path) -> Path:
    """A data root with 64 training and 32 test digits (random pixels), packed as .gz like the real one."""
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    for split, n in (("train", 64), ("test", 32)):
        write_idx(root, split, rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n), packed=True)
    return root


# ============================================================================ the layer
@pytest.mark.parametrize("kwargs,error,message", [
    ({"alpha": -1}, ValueError, r"alpha \(inhibition strength\) must be a finite number >= 0"),
    ({"alpha": float("nan")}, ValueError, "alpha"),
    ({"alpha": "1"}, TypeError, "alpha"),
    ({"scale": 0.5}, ValueError, r"scale \(h, pull/push kernel size ratio\) must be a finite number >= 1"),
    ({"scale": 1e6}, ValueError, "pull kernel of side 3000000; the largest built is 255"),
    ({"kernel_size": 4}, ValueError, "even push kernel"),
    ({"kernel_size": 0}, ValueError, "kernel_size must be >= 1"),
    ({"kernel_size": 2.5}, TypeError, "kernel_size must be an int or a pair of ints"),
    ({"groups": 2}, ValueError, "divisible by groups"),
    ({"in_channels": 0}, ValueError, "in_channels must be an integer >= 1"),
    ({"implementation": "fft"}, ValueError, "implementation must be one of"),
])
def test_layer_construction(kwargs, error, message):
    with pytest.raises(error, match=message):
        PushPull2d(**({"in_channels": 3, "out_channels": 4, "kernel_size": 3} | kwargs))


@pytest.mark.parametrize("value", [torch.tensor(float("nan")), torch.tensor([0.5, -1.0]), float("inf"), None])
def test_layer_alpha_assignment_is_checked_at_once(value):
    layer = PushPull2d(3, 4, 3)
    with pytest.raises((ValueError, TypeError), match="alpha"):
        layer.alpha = value
    assert layer.alpha == 1.0 and torch.isfinite(layer(torch.rand(1, 3, 5, 5))).all()


@pytest.mark.parametrize("x,error,message", [
    (torch.rand(3, 8, 8), ValueError, r"input must have shape \(N, C, H, W\) with C=3"),
    (torch.rand(1, 1, 8, 8), ValueError, "input has 1 channels but the layer expects in_channels=3"),
    (torch.randint(0, 255, (1, 3, 8, 8), dtype=torch.uint8), TypeError, "floating-point"),
    ([[1.0]], TypeError, "input must be a torch.Tensor"),
])
def test_layer_input(x, error, message):
    with pytest.raises(error, match=message):
        PushPull2d(3, 4, 3)(x)


def test_functional_alpha_and_weight():
    with pytest.raises(ValueError, match="alpha"):
        push_pull2d(torch.rand(1, 3, 8, 8), torch.randn(4, 3, 3, 3), alpha=torch.tensor(float("nan")))
    with pytest.raises(ValueError, match=r"weight must have shape"):
        push_pull2d(torch.rand(1, 3, 8, 8), torch.randn(4, 3, 3))


# ============================================================================ corruptions
@pytest.mark.parametrize("name", list_corruptions())
def test_nan_pixels_are_refused_by_every_corruption(name):
    images = torch.rand(2, 3, 32, 32) if name in CIFAR10C_ALL else torch.rand(2, 1, 28, 28)
    images[0, 0, 3, 3] = float("nan")
    with pytest.raises(ValueError, match="images holds 1 NaN or infinite value"):
        corrupt(images, name, 1)


def test_infinite_pixels_are_refused_in_evaluate():
    images = torch.rand(4, 1, 28, 28)
    images[1, 0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        evaluate(build_model("lenet-d"), images, torch.zeros(4, dtype=torch.long), ["mnist_gaussian_noise"])


@pytest.mark.parametrize("name", ["glass_blur", "spatter", "jpeg_compression", "gaussian_noise", "frost"])
def test_empty_batch_comes_back_empty(name):
    for dtype in (torch.float32, torch.uint8):
        empty = torch.zeros(0, 3, 32, 32, dtype=dtype)
        out = corrupt(empty, name, 3)
        assert out.shape == (0, 3, 32, 32) and out.dtype == dtype


@pytest.mark.parametrize("severity", [np.int64(3), np.int32(3), torch.tensor(3)])
def test_integral_severities_from_numpy_and_torch(severity):
    x = torch.full((1, 1, 28, 28), 0.5)
    gen = torch.Generator().manual_seed(0)
    expected = corrupt(x, "mnist_gaussian_noise", 3, torch.Generator().manual_seed(0))
    assert torch.equal(corrupt(x, "mnist_gaussian_noise", severity, gen), expected)


@pytest.mark.parametrize("severity", [0, 6, 2.0, True, torch.tensor(2.0), "3", None])
def test_bad_severities(severity):
    with pytest.raises(ValueError, match=r"severity of 'gaussian_noise' must be an integer in 1..5"):
        corrupt(torch.rand(1, 3, 32, 32), "gaussian_noise", severity)


def test_unknown_corruption_suggests_a_name():
    with pytest.raises(ValueError, match="Did you mean 'gaussian_noise'"):
        corrupt(torch.rand(1, 3, 32, 32), "gausian_noise", 1)


@pytest.mark.parametrize("images,message", [
    (torch.rand(3, 32, 32), r"images must be \(N, C, H, W\) with C = 1 or 3"),
    (torch.rand(1, 2, 32, 32), r"C = 1 or 3"),
    (torch.rand(1, 3, 32, 32) * 255, r"float images must lie in \[0, 1\]"),
    (torch.zeros(1, 3, 32, 32, dtype=torch.int32), "uint8 or floating point"),
])
def test_bad_images_for_corrupt(images, message):
    with pytest.raises(ValueError, match=message):
        corrupt(images, "gaussian_noise", 1)


class _CudaGenerator(torch.Generator):
    """Stands in for a CUDA generator on a machine without one (only its device is read)."""

    @property
    def device(self):
        return torch.device("cuda")


def test_generator_on_another_device_is_named():
    with pytest.raises(ValueError, match=r"generator is on cuda but the images are on cpu; make it with "
                                         r"torch.Generator\(device='cpu'\)"):
        corrupt(torch.rand(1, 3, 32, 32), "gaussian_noise", 1, _CudaGenerator())
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        corrupt(torch.rand(1, 3, 32, 32), "gaussian_noise", 1, 0)


def test_levels_and_continuous_levels():
    assert corruption_level("mnist_gaussian_noise", 1) > 0
    with pytest.raises(ValueError, match="severity"):
        corruption_level("mnist_gaussian_noise", 99)
    assert corrupt_at_level(torch.zeros(0, 1, 28, 28), "mnist_gaussian_noise", 0.1).shape[0] == 0


# ============================================================================ checkpoints
def test_malicious_pickle_is_refused_in_one_line_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pt"
    torch.save({"state_dict": Exploit()}, evil)
    with pytest.raises(CheckpointMismatchError) as info:
        load_checkpoint(evil)
    message = str(info.value)
    assert "\n" not in message and "refused for safety" in message and "weights_only=False" in message
    assert str(evil) in message and not marker.exists()
    assert main(["evaluate", "--checkpoint", str(evil), "--dataset", "mnist"]) == 2
    assert not marker.exists()


@pytest.mark.parametrize("content,message", [(b"", "empty, truncated or not a torch file"),
                                             (b"PK\x03\x04garbage", "empty, truncated or not a torch file")])
def test_empty_and_truncated_checkpoints(tmp_path, content, message):
    path = tmp_path / "x.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointMismatchError, match=message):
        load_checkpoint(path)


def test_truncated_real_checkpoint(tmp_path):
    good = Path(__file__).resolve().parents[1] / "pushpull_viz" / "weights" / "lenet-a.pt"
    path = tmp_path / "cut.pt"
    path.write_bytes(good.read_bytes()[:3000])
    with pytest.raises(CheckpointMismatchError, match=f"cannot read checkpoint {path}"):
        load_checkpoint(path)


def test_folder_and_missing_checkpoints(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "best.pt").write_bytes(b"")
    with pytest.raises(IsADirectoryError, match=r"is a folder \(it holds best.pt\); give the checkpoint file"):
        load_checkpoint(tmp_path / "run")
    with pytest.raises(FileNotFoundError, match="checkpoint file not found"):
        load_checkpoint(tmp_path / "nope.pt")


def test_mismatched_checkpoint_says_what_it_is(tmp_path):
    path = tmp_path / "r20.pt"
    torch.save(build_model("resnet20", pushpull=True).state_dict(), path)
    with pytest.raises(CheckpointMismatchError, match=r"checkpoint is for resnet20 \(push-pull"):
        load_model_from_checkpoint(path, name="densenet40-12")


# ============================================================================ data and caches
def test_missing_data_root_names_the_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("PUSHPULL_DATA", raising=False)
    monkeypatch.setenv("PUSHPULL_CACHE", str(tmp_path / "empty-cache"))  # nothing decoded earlier to fall back on
    with pytest.raises(FileNotFoundError, match="PUSHPULL_DATA"):
        load_dataset("mnist", "test")
    with pytest.raises(FileNotFoundError, match=f"data root {tmp_path / 'nowhere'}"):
        load_dataset("mnist", "test", tmp_path / "nowhere")


@pytest.mark.parametrize("damage", ["truncated", "bad crc", "not gzip"])
def test_damaged_mnist_gz_is_named_and_leaves_nothing(tiny_mnist, cache, damage, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    packed = tiny_mnist / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    data = packed.read_bytes()
    if damage == "truncated":
        packed.write_bytes(data[: len(data) // 2])
    elif damage == "bad crc":
        packed.write_bytes(data[:-8] + bytes(8))
    else:
        packed.write_bytes(b"this is not gzip")
    with pytest.raises(OSError, match=rf"{packed} is damaged .*replace it with a good copy"):
        load_dataset("mnist", "test", tiny_mnist)
    assert not list((tmp_path / "tmp").glob("pushpull-viz-*")) and not list(cache.rglob("*.tmp"))
    assert main(["evaluate", "--checkpoint", "x.pt", "--dataset", "mnist", "--data-root", str(tiny_mnist)]) == 2


@pytest.mark.parametrize("damage", ["truncated", "changed bytes", "all zeros", "other keys"])
def test_damaged_tensor_cache_is_rebuilt_with_a_notice(tiny_mnist, cache, damage, capsys):
    good = load_dataset("mnist", "test", tiny_mnist)
    [cached] = list(cache.rglob("*.pt"))
    saved = torch.load(cached, weights_only=True)
    if damage == "truncated":
        cached.write_bytes(cached.read_bytes()[:1000])
    elif damage == "changed bytes":
        saved["images"][0, 0, 0, :4] += 1
        torch.save(saved, cached)
    elif damage == "all zeros":
        torch.save({"images": torch.zeros_like(saved["images"]), "labels": torch.zeros_like(saved["labels"])}, cached)
    else:
        torch.save({"x": torch.zeros(1)}, cached)
    capsys.readouterr()
    again = load_dataset("mnist", "test", tiny_mnist)
    assert torch.equal(again.images, good.images) and torch.equal(again.labels, good.labels)
    notice = capsys.readouterr().out
    assert notice.count("\n") == 1 and f"cached mnist-test tensors {cached} are damaged" in notice
    assert torch.load(cached, weights_only=True)["sha256"] == saved["sha256"]  # rebuilt and verified


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_cache_costs_the_cache_not_the_result(tiny_mnist, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "ro-cache"
    folder.mkdir()
    folder.chmod(0o500)
    monkeypatch.setenv("PUSHPULL_CACHE", str(folder))
    try:
        data = load_dataset("mnist", "test", tiny_mnist)
    finally:
        folder.chmod(0o700)
    assert len(data) == 32 and "PUSHPULL_CACHE" in capsys.readouterr().out


def test_unwritable_cache_location_costs_the_cache_not_the_result(tiny_mnist, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PUSHPULL_CACHE", str(blocker / "cache"))
    data = load_dataset("mnist", "test", tiny_mnist)
    assert len(data) == 32
    out = capsys.readouterr().out
    assert "set PUSHPULL_CACHE to a writable folder" in out and "without the cache" in out


# ============================================================================ released files
def test_released_folder_with_the_wrong_layout(tmp_path):
    (tmp_path / "CIFAR-10-C").mkdir()
    with pytest.raises(FileNotFoundError, match="labels.npy"):
        open_released(tmp_path / "CIFAR-10-C", "cifar10-c")


# ============================================================================ run folders
LOCK_HOLDER = textwrap.dedent("""
    import sys, time
    from pushpull_viz.io import FolderLock
    with FolderLock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
""")


def _hold_lock(folder: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(folder)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_run_folder_is_owned_by_one_process(tmp_path, tiny_mnist, capsys):
    run = tmp_path / "run"
    holder = _hold_lock(run)
    try:
        before = files_under(run)
        with pytest.raises(FolderInUseError, match=rf"run folder {run} is in use by process {holder.pid} on "):
            with FolderLock(run, "run folder"):
                pass
        data = load_dataset("mnist", "train", tiny_mnist)
        with pytest.raises(FolderInUseError, match=f"process {holder.pid}"):
            fit(build_model("lenet-d"), data, "lenet-quick", out=run, epochs=1, progress=False)
        code = main(["train", "--model", "lenet-d", "--dataset", "mnist", "--data-root", str(tiny_mnist),
                     "--epochs", "1", "--no-progress", "--out", str(run)])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and f"--out {run} is in use by process {holder.pid}" in err
        for command in (["demo", "--out", str(run), "--epochs", "1", "--data-root", str(tiny_mnist)],
                        ["reproduce", "mnist", "--quick", "--out", str(run), "--data-root", str(tiny_mnist)]):
            assert main(command) == 2
            assert "in use by process" in capsys.readouterr().err
        assert files_under(run) == before  # nothing written by the refused processes
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    run = tmp_path / "run"
    holder = _hold_lock(run)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (run / LOCK_NAME).exists()  # left behind by kill -9
    (run / ".last.pt.abc123.tmp").write_bytes(b"half a checkpoint")  # an interrupted atomic write
    with FolderLock(run):
        assert str(os.getpid()) in (run / LOCK_NAME).read_text()
        assert not (run / ".last.pt.abc123.tmp").exists()  # cleaned up when the folder is opened
    assert not (run / LOCK_NAME).exists()


def test_two_trainings_into_one_folder_keep_one_run(tmp_path, tiny_mnist):
    """The issue's reproduction: two `train` processes, same --out, different seeds, started together."""
    run = tmp_path / "run"
    command = [sys.executable, "-m", "pushpull_viz.cli", "train", "--model", "lenet-d", "--dataset", "mnist",
               "--data-root", str(tiny_mnist), "--epochs", "3", "--no-progress", "--out", str(run)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    first = subprocess.Popen([*command, "--seed", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    deadline = time.time() + 60
    while not (run / LOCK_NAME).exists() and time.time() < deadline and first.poll() is None:
        time.sleep(0.05)
    second = subprocess.run([*command, "--seed", "2"], env=env, capture_output=True, text=True)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    # Either the second found the folder locked (the race this test is about) or, on a slow or loaded
    # machine, the first had already finished and the second found its run: both refuse, one line, exit 2.
    assert second.returncode == 2, second.stderr
    assert "is in use by process" in second.stderr or "already holds a run (last.pt)" in second.stderr
    assert torch.load(run / "last.pt", weights_only=True)["config"]["seed"] == 1


# ============================================================================ output paths, before any work
def test_output_paths_are_checked_up_front(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me")
    with pytest.raises(IsADirectoryError, match=rf"--out {tmp_path} is a folder; give a file name"):
        check_output_file(tmp_path, "--out")
    with pytest.raises(NotADirectoryError, match=rf"--out {a_file / 'x.csv'}: {a_file} is a file, not a folder"):
        check_output_file(a_file / "x.csv", "--out")
    with pytest.raises(NotADirectoryError, match=rf"--out {a_file} is a file; give a folder"):
        check_output_folder(a_file, "--out")
    assert a_file.read_text() == "keep me"


@pytest.mark.parametrize("out_kind", ["existing folder", "under a file"])
def test_evaluate_out_is_checked_before_the_evaluation(tmp_path, data_root, capsys, out_kind):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    out = tmp_path if out_kind == "existing folder" else a_file / "results.csv"
    weights = Path(__file__).resolve().parents[1] / "pushpull_viz" / "weights" / "lenet-a.pt"
    start = time.perf_counter()
    code = main(["evaluate", "--checkpoint", str(weights), "--dataset", "mnist", "--data-root", str(data_root),
                 "--corruptions", "mnist", "--no-progress", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2 and "accuracy (%)" not in captured.out  # stopped before any evaluation
    assert captured.err.count("\n") == 1 and "--out" in captured.err
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("command", [
    ["train", "--model", "lenet-d", "--dataset", "mnist", "--out", "{file}"],
    ["official", "--out", "{file}"],
    ["export-weights", "--checkpoint", "x.pt", "--out", "{dir}"],
    ["demo", "--out", "{file}"],
    ["reproduce", "mnist", "--out", "{file}"],
    ["reproduce", "mnist", "--runs", "{file}/runs"],
])
def test_every_subcommand_checks_its_outputs_first(tmp_path, capsys, command):
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me")
    args = [a.format(file=a_file, dir=tmp_path) for a in command]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("--out" in err or "--runs" in err), err
    assert a_file.read_text() == "keep me"


@pytest.mark.parametrize("card,message", [("{bad json", "--card must be a JSON object.*does not parse"),
                                          ("[1, 2]", "--card must be a JSON object")])
def test_export_weights_card(tmp_path, capsys, card, message):
    weights = Path(__file__).resolve().parents[1] / "pushpull_viz" / "weights" / "lenet-a.pt"
    assert main(["export-weights", "--checkpoint", str(weights), "--out", str(tmp_path / "w.pt"),
                 "--card", card]) == 2
    import re

    assert re.search(message, capsys.readouterr().err) and not (tmp_path / "w.pt").exists()


@pytest.mark.parametrize("flag", ["--train-subset", "--test-subset", "--epochs"])
def test_demo_refuses_non_positive_sizes_before_training(tmp_path, capsys, flag):
    assert main(["demo", "--out", str(tmp_path / "demo"), flag, "0"]) == 2
    assert f"{flag} must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()


def test_cli_arguments_are_named(capsys):
    assert main(["train", "--model", "lenet-a", "--dataset", "mnist", "--out", "/tmp/x", "--alpha", "0.5"]) == 2
    assert "--alpha, --scale, --trainable-alpha and --pushpull-layers need --pushpull" in capsys.readouterr().err
    assert main(["evaluate", "--checkpoint", "x.pt"]) == 2
    assert "--dataset is required" in capsys.readouterr().err


def test_offline_download_names_the_data_root(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PUSHPULL_DATA", raising=False)
    monkeypatch.setenv("PUSHPULL_CACHE", str(tmp_path / "cache"))
    code = main(["evaluate", "--checkpoint", "x.pt", "--dataset", "mnist", "--data-root", str(tmp_path / "none")])
    assert code == 2 and f"data root {tmp_path / 'none'}" in capsys.readouterr().err


def test_unknown_model_and_dataset_names(capsys):
    with pytest.raises(ValueError, match="Did you mean 'resnet20'"):
        build_model("resnt20")
    with pytest.raises(ValueError, match="unknown dataset 'mnits'"):
        load_dataset("mnits", "test")
    assert main(["train", "--model", "lenet-q", "--dataset", "mnist", "--out", "x"]) == 2
    assert "Did you mean" in capsys.readouterr().err
