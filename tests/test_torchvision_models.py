"""torchvision classifiers in the registry, the ImageNet folder pipeline, and a ResNet-18 with a push-pull
first layer trained, evaluated and resumed on a tiny generated ImageNet-style folder, in one process and in
two (gloo). No weights are downloaded: fine-tuning reads a state dict written by the test."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from distributed_workers import spawn

from pushpull_viz import PushPull2d, build_model, load_model_from_checkpoint
from pushpull_viz.data import folder_dataloader, folder_split
from pushpull_viz.models import list_models, model_info
from pushpull_viz.models.torchvision_models import TorchvisionClassifier, load_backbone_weights
from pushpull_viz.train import fit, seed_everything

from conftest import REPO, make_image_folder


@pytest.fixture(scope="module")
def tiny_imagenet(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp("tiny-imagenet"))


def test_registry_has_torchvision_models_by_name():
    assert {"tv-resnet18", "tv-resnet50"} <= set(list_models())
    info = model_info("tv-resnet50")
    assert info.first_layer == "net.conv1" and info.input_shape == (3, 224, 224)
    model = build_model("tv-resnet50", pushpull=True, num_classes=5)
    assert isinstance(model.net.conv1, PushPull2d) and model.net.conv1.pull_kernel_size == (15, 15)
    assert sum(isinstance(m, PushPull2d) for m in model.modules()) == 1
    # any other torchvision classifier, found by name on first use
    other = build_model("tv-mobilenet_v3_small", pushpull=True, num_classes=3)
    assert isinstance(other.get_submodule(model_info("tv-mobilenet_v3_small").first_layer), PushPull2d)
    with pytest.raises(ValueError, match="tv-<arch> for any torchvision classifier"):
        build_model("tv-resnet-18")


def test_named_layers_and_their_options():
    model = build_model("tv-resnet18", pushpull=True, pushpull_layers=["conv1", "layer1.0.conv1"], alpha=0.5,
                        num_classes=4)
    converted = [n for n, m in model.net.named_modules() if isinstance(m, PushPull2d)]
    assert converted == ["conv1", "layer1.0.conv1"] and model.build_config["alpha"] == 0.5
    only_deep = build_model("tv-resnet18", pushpull=True, pushpull_layers=["layer1.0.conv1"], alpha=0.25)
    assert only_deep.build_config["alpha"] == 0.25  # read off the converted layer, not the first conv
    with pytest.raises(ValueError, match="need pushpull=True"):
        build_model("tv-resnet18", pushpull_layers=["conv1"])
    with pytest.raises(ValueError, match="no nn.Conv2d named"):
        build_model("tv-resnet18", pushpull=True, pushpull_layers=["conv9"])


def test_outputs_match_torchvision_after_normalisation():
    import torchvision

    torch.manual_seed(0)
    ours = TorchvisionClassifier("resnet18", num_classes=7).eval()
    plain = torchvision.models.resnet18(num_classes=7).eval()
    plain.load_state_dict(ours.net.state_dict())
    x = torch.rand(2, 3, 64, 64)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3,
                                                                                                               1, 1)
    torch.testing.assert_close(ours(x), plain((x - mean) / std))


def test_fine_tuning_loads_trained_weights_into_the_push_kernels(tmp_path):
    import torchvision

    trained = torchvision.models.resnet18(num_classes=1000)
    path = tmp_path / "resnet18.pth"
    torch.save(trained.state_dict(), path)
    model = build_model("tv-resnet18", pushpull=True, num_classes=5)
    kept = load_backbone_weights(model, path)
    assert kept == ["fc.weight", "fc.bias"]  # another number of classes: a fresh classifier
    assert torch.equal(model.net.conv1.push.weight, trained.conv1.weight)
    assert torch.equal(model.net.layer4[1].bn2.running_var, trained.layer4[1].bn2.running_var)
    with pytest.raises(FileNotFoundError, match="--init-from"):
        load_backbone_weights(model, tmp_path / "missing.pth")
    torch.save({"something": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="does not fit this model"):
        load_backbone_weights(model, tmp_path / "other.pth")


def test_imagenet_pipeline(tiny_imagenet):
    train = folder_dataloader(tiny_imagenet / "train", 8, train=True, pipeline="imagenet", image_size=48,
                              num_workers=0)
    test = folder_dataloader(folder_split(f"folder:{tiny_imagenet}", "test"), 5, train=False, pipeline="imagenet",
                             image_size=48, num_workers=0)
    x, y = next(iter(train))
    assert x.shape == (8, 3, 48, 48) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert len(test.dataset) == 12 and test.dataset.classes == train.dataset.classes
    # test time is deterministic: resize to 48 / 0.875 = 55, centre crop 48
    assert torch.equal(next(iter(test))[0], next(iter(test))[0])
    # training crops differ between epochs but repeat for the same (seed, epoch)
    train.set_epoch(1)
    again = next(iter(train))[0]
    train.set_epoch(0)
    assert torch.equal(next(iter(train))[0], x) and not torch.equal(again, x)
    with pytest.raises(ValueError, match="pipeline must be one of"):
        folder_dataloader(tiny_imagenet / "train", pipeline="inception")


def _fit_folder(folder, out, epochs=2, **kwargs):
    seed_everything(0)
    model = build_model("tv-resnet18", pushpull=True, num_classes=3)
    loaders = [folder_dataloader(folder / s, 12, train=s == "train", pipeline="imagenet", image_size=48,
                                 num_workers=0) for s in ("train", "val")]
    return fit(model, tuple(loaders), "imagenet-torchvision", epochs=epochs, batch_size=12, lr=0.05, out=out,
               device="cpu", progress=False, **kwargs)


def test_resnet18_pushpull_trains_evaluates_and_resumes_in_one_process(tiny_imagenet, tmp_path):
    whole = _fit_folder(tiny_imagenet, tmp_path / "whole")
    assert whole.history["train_loss"].iloc[-1] < whole.history["train_loss"].iloc[0]
    assert 0 <= whole.final_accuracy <= 1 and len(whole.history) == 2

    class Stop(Exception):
        pass

    def stop(row):
        raise Stop

    with pytest.raises(Stop):
        _fit_folder(tiny_imagenet, tmp_path / "run", on_epoch_end=stop)
    resumed = _fit_folder(tiny_imagenet, tmp_path / "run", resume=True)
    for key, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    reloaded = load_model_from_checkpoint(tmp_path / "run" / "last.pt")
    assert reloaded.model_name == "tv-resnet18" and isinstance(reloaded.net.conv1, PushPull2d)


def _folder_spec(folder, **extra):
    return {"folder": str(folder), "image_size": 48, "model": "tv-resnet18", "num_classes": 3,
            "recipe": "imagenet-torchvision", "overrides": {"epochs": 2, "batch_size": 12, "lr": 0.05}, **extra}


def test_resnet18_pushpull_resumes_under_two_processes(tiny_imagenet, tmp_path):
    whole = spawn(2, tmp_path / "whole", _folder_spec(tiny_imagenet))
    assert not any(r.get("error") for r in whole), [r.get("error") for r in whole]
    out = str(tmp_path / "run")
    stopped = spawn(2, tmp_path / "stopped", _folder_spec(tiny_imagenet, out=out, interrupt_after=1))
    assert all("Interrupted" in r["error"] for r in stopped)
    resumed = spawn(2, tmp_path / "resumed", _folder_spec(tiny_imagenet, out=out, resume=True))
    assert not any(r.get("error") for r in resumed), [r.get("error") for r in resumed]
    for key, value in whole[0]["state"].items():
        assert torch.equal(value, resumed[0]["state"][key]), key
    assert resumed[0]["writes"] and not resumed[1]["writes"]
    # every validation image counted once over the two ranks (12 images: accuracy a multiple of 1/12)
    accuracy = resumed[0]["history"]["test_accuracy"].iloc[-1]
    assert abs(accuracy * 12 - round(accuracy * 12)) < 1e-9


def test_torchrun_command_line(tiny_imagenet, tmp_path):
    """The documented command, two processes on the CPU: ``torchrun ... -m pushpull_viz.cli train``."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "pushpull_viz.cli", "train", "--model", "tv-resnet18", "--pushpull",
               "--dataset", f"folder:{tiny_imagenet}", "--epochs", "1", "--batch-size", "12", "--lr", "0.05",
               "--image-size", "48", "--workers", "1", "--out", str(out), "--no-progress", "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("done: best test accuracy") == 1  # rank 0 alone reports
    assert "train (48x48" not in done.stdout and "val (folder), 48x48" in done.stdout
    saved = torch.load(out / "last.pt", weights_only=False)
    assert saved["config"]["world_size"] == 2 and saved["config"]["recipe"]["name"] == "imagenet-torchvision"
    # the same folder again without --resume: every rank stops, and the line names the flags
    again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert again.returncode != 0
    assert "(rank 0 of 2): error:" in again.stderr and "--resume" in again.stderr
