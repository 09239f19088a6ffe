"""Robustness evaluation: a tidy table, the same corrupted images for every model, clear errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pushpull_viz.robustness import evaluate


class _Recorder(nn.Module):
    """Predicts class 0 and remembers every batch it saw."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.seen = []

    def forward(self, x):
        self.seen.append(x.clone())
        return torch.zeros(x.shape[0], 10) * self.scale + torch.eye(10)[0]


def test_tidy_table_and_shared_noise():
    images = torch.randint(0, 256, (30, 1, 28, 28), dtype=torch.uint8)
    labels = torch.tensor([0] * 12 + [1] * 18)
    a, b = _Recorder(), _Recorder()
    table = evaluate({"a": a, "b": b}, images, labels, ["mnist_gaussian_noise"], severities=[1, 5], batch_size=8,
                     progress=False)
    assert list(table.columns) == ["model", "corruption", "severity", "level", "accuracy", "error", "n"]
    assert table[["corruption", "severity"]].values.tolist()[:3] == [["clean", 0], ["mnist_gaussian_noise", 1],
                                                                     ["mnist_gaussian_noise", 5]]
    assert (table["accuracy"] == 0.4).all() and (table["error"] == 0.6).all() and (table["n"] == 30).all()
    assert all(x.equal(y) for x, y in zip(a.seen, b.seen, strict=True))  # both models saw the same noisy images
    assert a.seen[0].equal(images[:8].float() / 255)  # clean first, as floats in [0, 1]
    again = _Recorder()
    evaluate(again, images, labels, ["mnist_gaussian_noise"], severities=[1, 5], batch_size=8, progress=False)
    assert all(x.equal(y) for x, y in zip(a.seen, again.seen, strict=True))  # and a rerun sees them again


def test_errors():
    images, labels = torch.rand(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)
    model = _Recorder()
    with pytest.raises(ValueError, match="severities \\[9\\].*1..5"):
        evaluate(model, images, labels, ["mnist_poisson_contrast"], severities=[9], progress=False)
    with pytest.raises(ValueError, match="unknown corruption"):
        evaluate(model, images, labels, ["nope"], progress=False)
    with pytest.raises(ValueError, match="labels must have shape"):
        evaluate(model, images, labels[:3], progress=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate(model, images * 3, labels, progress=False)


# ------------------------------------------------------------------------------------------ metrics

from pushpull_viz.corruptions.cifar10c import CIFAR10C_ALL, CIFAR10C_BENCHMARK  # noqa: E402
from pushpull_viz.paper import TABLE2_PERCENT  # noqa: E402  (paper Table 2, errors in %)
from pushpull_viz.robustness import ALEXNET_CIFAR_ERRORS, summarize  # noqa: E402

# ResNet-20 and ResNet-20-PP: the first two columns
TABLE2 = {name: (values[0], values[1]) for name, values in TABLE2_PERCENT.items()}


def test_name_lists():
    assert len(CIFAR10C_ALL) == 19 and len(set(CIFAR10C_ALL)) == 19 and set(CIFAR10C_BENCHMARK) < set(CIFAR10C_ALL)
    assert set(ALEXNET_CIFAR_ERRORS) == {"clean", *CIFAR10C_ALL}


@pytest.mark.parametrize("column,clean,mce,rce", [(0, 7.56, 104, 169), (1, 8.29, 101, 158)])
def test_paper_table2_golden(column, clean, mce, rce):
    errors = {name: values[column] / 100 for name, values in TABLE2.items()}
    summary = summarize(errors, clean_error=clean / 100)
    assert round(summary.mce) == mce and round(summary.relative_mce) == rce
    assert summary.corruption_error == pytest.approx((30.29 if column == 0 else 29.38) / 100, abs=6e-4)
    assert len(summary.per_corruption) == 19


def test_summarize_from_an_evaluate_table_and_a_custom_baseline():
    import pandas as pd

    rows = [("pp", "clean", 0, 0.1), ("plain", "clean", 0, 0.1)]
    for severity in range(1, 6):
        rows += [("pp", "gaussian_noise", severity, 0.2 + 0.02 * severity),
                 ("plain", "gaussian_noise", severity, 0.3 + 0.02 * severity)]
    table = pd.DataFrame(rows, columns=["model", "corruption", "severity", "error"])
    with pytest.raises(ValueError, match="several models.*model="):
        summarize(table)
    pp = summarize(table, model="pp", baseline=table[table.model == "plain"])
    assert pp.clean_error == 0.1 and pp.corruption_error == pytest.approx(0.26)
    assert pp.mce == pytest.approx(100 * 0.26 / 0.36) and pp.relative_mce == pytest.approx(100 * 0.16 / 0.26)
    alex = summarize(table, model="plain")
    assert alex.mce == pytest.approx(100 * 0.36 / 0.3844) and alex.baseline.startswith("alexnet")


def test_summarize_errors():
    with pytest.raises(ValueError, match="fractions.*divide percentages by 100"):
        summarize({"gaussian_noise": 57.41}, clean_error=0.07)
    with pytest.raises(ValueError, match="no clean error"):
        summarize({"gaussian_noise": 0.5})
    with pytest.raises(ValueError, match="baseline has no errors for \\['mnist_gaussian_noise'\\]"):
        summarize({"mnist_gaussian_noise": 0.5}, clean_error=0.01)
    with pytest.raises(ValueError, match="unknown baseline"):
        summarize({"fog": 0.5}, clean_error=0.01, baseline="resnet")


def test_authors_resnet20_push_pull_is_ahead_on_noise(official_checkpoints, data_root):
    """The paper's headline on real weights: on 300 JPEG-75 test photographs corrupted on the fly,
    the authors' ResNet-20-PP beats their plain ResNet-20 on every noise corruption (mean accuracy
    over the 5 severities). Measured: 3.3-7.4 points ahead; paper Table 2: 3.8-7.5 points lower error."""
    from pushpull_viz.data import load_cifar10_jpeg75
    from pushpull_viz.models import load_model_from_checkpoint

    images, labels = load_cifar10_jpeg75("test", data_root, per_class=30)
    models = {name: load_model_from_checkpoint(official_checkpoints / name / "model_best.pth.tar")
              for name in ("resnet-20", "resnet-20-pp")}
    noise = ["gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise"]
    table = evaluate(models, images, labels, noise, batch_size=300, device="cpu", progress=False)
    accuracy = table[table["corruption"] != "clean"].groupby(["corruption", "model"])["accuracy"].mean().unstack()
    assert (accuracy["resnet-20-pp"] > accuracy["resnet-20"]).all(), accuracy
    clean = table[table["corruption"] == "clean"].set_index("model")["accuracy"]
    assert 0.7 < clean["resnet-20"] < 0.9 and 0.7 < clean["resnet-20-pp"] < 0.92
