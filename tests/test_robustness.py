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
    assert all(x.equal(y) for x, y in zip(a.seen, b.seen))  # both models saw the same noisy images
    assert a.seen[0].equal(images[:8].float() / 255)  # clean first, as floats in [0, 1]
    again = _Recorder()
    evaluate(again, images, labels, ["mnist_gaussian_noise"], severities=[1, 5], batch_size=8, progress=False)
    assert all(x.equal(y) for x, y in zip(a.seen, again.seen))  # and a rerun sees them again


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
