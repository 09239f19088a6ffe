"""Training on several processes: DistributedDataParallel over gloo on the CPU, 2 processes spawned by the tests.

What a user of ``torchrun`` relies on, checked without a GPU:
  * 2 processes with the same global batch train LeNet-A-PP on MNIST to the same weights as 1 process, up to
    the order of floating-point reductions (tolerance 1e-6 absolute on every weight after 2 epochs, 16 steps;
    measured on this machine: at most 1.5e-8, float32 rounding of the all-reduce's sum of two halves where one
    process sums one whole batch; averaging each process's mean loss instead, which is wrong only for the last
    batch of 53 shared 27 / 26, moved a weight by 4.4e-4);
  * a run killed after an epoch and resumed under 2 processes ends bit-identical to an uninterrupted 2-process
    run; resuming with 1 process works and ends within the same tolerance;
  * rank 0 alone writes files; a failure on one rank stops both with a line naming it;
  * each rank's share of the batches (tensors and DataLoader) is the single-process stream, split.
"""

from __future__ import annotations

import pytest
import torch
from distributed_workers import spawn

from pushpull_viz.data import ImageTensors, TensorLoader, load_dataset
from pushpull_viz.distributed import local_batch_size, share_of_batch, together, world
from pushpull_viz.train import fit, seed_everything

TOLERANCE = 1e-6  # absolute, on every weight after 2 epochs (see the module docstring)


@pytest.fixture(scope="module")
def mnist_bits(data_root):
    train = load_dataset("mnist", "train", data_root)
    test = load_dataset("mnist", "test", data_root)
    # 501 images with a global batch of 64: 7 full batches and a last one of 53, shared 27 / 26
    return (train.images[:501].clone(), train.labels[:501].clone()), (test.images[:200].clone(),
                                                                      test.labels[:200].clone())


def _spec(mnist_bits, **extra):
    train, test = mnist_bits
    return {"train": train, "test": test, "recipe": "lenet-quick", "overrides": {"epochs": 2, "batch_size": 64},
            **extra}


def _single(mnist_bits, **kwargs):
    from pushpull_viz.models import build_model

    train, test = mnist_bits
    seed_everything(0)
    model = build_model("lenet-a", pushpull=True)
    data = (ImageTensors(*train, tuple("0123456789"), "train"), ImageTensors(*test, tuple("0123456789"), "test"))
    return fit(model, data, "lenet-quick", epochs=2, batch_size=64, device="cpu", progress=False, **kwargs)


def _max_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item() for k in a)


def _ok(results):
    errors = [r.get("error") for r in results if r.get("error")]
    assert not errors, errors
    return results


def test_two_processes_train_like_one(mnist_bits, tmp_path):
    two = _ok(spawn(2, tmp_path / "ddp", _spec(mnist_bits)))
    one = _single(mnist_bits)
    one_state = one.model.state_dict()
    assert _max_difference(two[0]["state"], two[1]["state"]) == 0  # DDP keeps the ranks identical
    assert _max_difference(two[0]["state"], one_state) < TOLERANCE
    # the metrics are summed over both ranks: every image counted once
    assert two[0]["history"]["train_loss"].tolist() == pytest.approx(one.history["train_loss"].tolist(), rel=1e-5)
    assert two[0]["history"]["test_accuracy"].tolist() == pytest.approx(one.history["test_accuracy"].tolist())


def test_kill_and_resume_under_two_processes(mnist_bits, tmp_path):
    whole = _ok(spawn(2, tmp_path / "whole", _spec(mnist_bits, out=str(tmp_path / "run-whole"))))
    out = str(tmp_path / "run")
    stopped = spawn(2, tmp_path / "stopped", _spec(mnist_bits, out=out, interrupt_after=1))
    assert all("Interrupted" in r["error"] for r in stopped)
    resumed = _ok(spawn(2, tmp_path / "resumed", _spec(mnist_bits, out=out, resume=True)))
    assert _max_difference(resumed[0]["state"], whole[0]["state"]) == 0  # bit-identical
    assert resumed[0]["history"]["train_loss"].tolist() == whole[0]["history"]["train_loss"].tolist()
    # rank 0 alone wrote the run folder, in every run
    for run in (whole, stopped, resumed):
        assert run[0]["writes"] and not run[1]["writes"]
    saved = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    assert saved["config"]["world_size"] == 2 and len(saved["rng_ranks"]) == 2


def test_a_two_process_run_resumes_in_one(mnist_bits, tmp_path, capsys):
    from pushpull_viz.models import build_model

    out = tmp_path / "run"
    spawn(2, tmp_path / "stopped", _spec(mnist_bits, out=str(out), interrupt_after=1))
    whole = _ok(spawn(2, tmp_path / "whole", _spec(mnist_bits)))
    train, test = mnist_bits
    data = (ImageTensors(*train, tuple("0123456789"), "train"), ImageTensors(*test, tuple("0123456789"), "test"))
    resumed = fit(build_model("lenet-a", pushpull=True), data, "lenet-quick", epochs=2, batch_size=64, out=out,
                  resume=True, device="cpu", progress=False)
    assert "resuming a run of 2 process(es) with 1" in capsys.readouterr().out
    assert _max_difference(resumed.model.state_dict(), whole[0]["state"]) < TOLERANCE


def test_a_failing_rank_stops_both_with_one_line(mnist_bits, tmp_path):
    results = spawn(2, tmp_path / "fail", _spec(mnist_bits, fail_rank=1))
    assert results[1]["error"].startswith("TypeError")
    assert results[0]["error"].startswith("RuntimeError: starting the run failed on rank 1 of 2: TypeError")


def test_the_batch_must_share_out_evenly(mnist_bits, tmp_path):
    results = spawn(2, tmp_path / "odd", _spec(mnist_bits, overrides={"epochs": 1, "batch_size": 63}))
    assert all("batch size 63 must be divisible by the number of processes (2)" in r["error"] for r in results)


def test_single_process_helpers_are_no_ops():
    assert world() == (0, 1)
    with together("nothing"):
        pass
    with pytest.raises(ValueError, match="boom"), together("a step"):
        raise ValueError("boom")
    assert local_batch_size(256, 8) == 32
    with pytest.raises(ValueError, match="divisible"):
        local_batch_size(100, 3)
    shares = [share_of_batch(53, r, 2) for r in range(2)]
    assert shares == [(0, 27), (27, 53)]


@pytest.mark.parametrize("shuffle,padding,flip", [(True, 4, True), (False, 0, False)])
def test_tensor_loader_shares_are_the_single_process_batches(shuffle, padding, flip):
    images = torch.randint(0, 256, (23, 3, 8, 8), dtype=torch.uint8)
    data = ImageTensors(images, torch.arange(23) % 10, tuple("0123456789"))
    options = dict(batch_size=8, shuffle=shuffle, crop_padding=padding, flip=flip, seed=5)
    whole = TensorLoader(data, **options)
    parts = [TensorLoader(data, **options, rank=r, world_size=3) for r in range(3)]
    for loader in (whole, *parts):
        loader.set_epoch(2)
    assert len(whole) == len(parts[0]) == 3  # 8 + 8 + 7
    for step, ((x, y), *shares) in enumerate(zip(whole, *parts, strict=True)):
        assert torch.equal(torch.cat([s[0] for s in shares]), x) and torch.equal(torch.cat([s[1] for s in shares]), y)
        assert whole.global_batch_size(step) == len(y)
    # a last global batch smaller than the number of processes is dropped (every rank needs an image)
    tiny = ImageTensors(images[:18], torch.arange(18) % 10, tuple("0123456789"))  # batches of 8, 8 and 2
    assert [len(TensorLoader(tiny, 8, rank=0, world_size=size)) for size in (1, 2, 4)] == [3, 3, 2]


def test_tensor_loader_checks_its_shard():
    data = ImageTensors(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), torch.zeros(4, dtype=torch.long), ("a",))
    with pytest.raises(ValueError, match="0 <= rank < world_size"):
        TensorLoader(data, 2, rank=2, world_size=2)
    with pytest.raises(ValueError, match="smaller than the number of processes"):
        TensorLoader(data, 2, rank=0, world_size=4)


def test_sync_batchnorm_needs_cuda_and_processes(mnist_bits):
    with pytest.raises(ValueError, match="sync_batchnorm=True .* needs several processes on CUDA"):
        _single(mnist_bits, sync_batchnorm=True)
