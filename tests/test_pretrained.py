"""Shipped weights: load strictly and safely, carry their card, and are as accurate as the card says."""

from __future__ import annotations

import pytest
import torch

from pushpull_viz.cli import main
from pushpull_viz.pretrained import WEIGHTS_DIR, export_weights, list_pretrained, load_pretrained, pretrained_card
from pushpull_viz.train import evaluate_accuracy


def test_shipped_weights_are_weights_only_and_small():
    assert {"lenet-a", "lenet-a-pp"} <= set(list_pretrained())
    for name in list_pretrained():
        path = WEIGHTS_DIR / f"{name}.pt"
        assert path.stat().st_size < 1_200_000  # a float32 ResNet-20 is 1.1 MB, a LeNet 0.25 MB
        data = torch.load(path, weights_only=True)
        assert data["format"] == "pushpull-viz-weights/1" and "optimizer" not in data
        card = pretrained_card(name)
        assert card["commands"] and card["recipe"] and isinstance(card["seed"], int)
        assert card["dataset"] in ("mnist", "cifar10-jpeg75")
    assert (WEIGHTS_DIR / "README.md").read_text().count("## ") == len(list_pretrained())


@pytest.mark.parametrize("name", list_pretrained())  # one test each: the test workers share them out
def test_shipped_weights_match_their_cards(data_root, name):
    """Each shipped model gets its card's clean test accuracy here on the CPU (the ResNets were
    trained and tested on a GPU: one image in 10,000 may flip)."""
    from pushpull_viz.data import load_dataset

    model = load_pretrained(name)
    assert (type(model.conv1).__name__ == "PushPull2d") == ("-pp" in name)
    accuracy, _ = evaluate_accuracy(model, load_dataset(model.card["dataset"], "test", data_root), device="cpu")
    expected = model.card.get("test_accuracy") or model.card["best_test_accuracy"]  # older cards: best epoch
    assert accuracy == pytest.approx(expected, abs=1e-4 if model.card["dataset"] == "mnist" else 2e-4)


def test_unknown_name_lists_the_shipped_ones():
    with pytest.raises(ValueError, match="Did you mean 'lenet-a'.*Shipped: lenet-a"):
        load_pretrained("lenet-aa")


def test_export_from_a_run_and_cli(tmp_path, capsys):
    from pushpull_viz.data import ImageTensors
    from pushpull_viz.models import build_model
    from pushpull_viz.train import fit

    images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
    data = ImageTensors(images, torch.arange(64) % 10, tuple(map(str, range(10))), "random")
    fit(build_model("lenet-b", pushpull=True, alpha=0.5), (data, data), "lenet-quick", out=tmp_path / "run",
        epochs=1, progress=False, device="cpu")
    out = export_weights(tmp_path / "run" / "best.pt", tmp_path / "w" / "tiny.pt", {"note": "test"}, half=True)
    data = torch.load(out, weights_only=True)
    assert data["card"]["note"] == "test" and data["card"]["model"]["alpha"] == 0.5
    assert data["card"]["checkpoint_epoch"] == 1 and 0 <= data["card"]["test_accuracy"] <= 1
    assert data["state_dict"]["conv1.push.weight"].dtype == torch.float16
    assert main(["export-weights", "--checkpoint", str(tmp_path / "run" / "best.pt"), "--out",
                 str(tmp_path / "w" / "cli.pt"), "--card", '{"commands": ["x"]}', "--write-cards"]) == 0
    assert "cli" in (tmp_path / "w" / "README.md").read_text()
    assert main(["export-weights", "--checkpoint", str(out), "--out", str(tmp_path / "bad.pt")]) == 2
    assert "not a pushpull-viz run checkpoint" in capsys.readouterr().err
