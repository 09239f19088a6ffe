"""Fidelity: each ported CIFAR-10-C corruption against an independent per-image numpy/scipy/PIL
implementation of the published recipe (tests/cifar10c_reference.py), on 200 real photographs
(the JPEG-75 CIFAR-10 test copy, 100 per class: 1,000 images).

Per severity, the mean absolute change to the image and the PSNR must agree:
  * mean |change| within 5% (relative);
  * PSNR within 0.4 dB.
Why these tolerances: the two sides draw different random numbers, so even a perfect port
differs by the spread between two independent draws. Measured over 10 seeds on 200 images, one
draw's PSNR varies by up to 0.2 dB (frost: which photograph each image gets; mud spatter: how
many blots) and its mean change by up to 3.4%; on 1,000 images that is ~0.09 dB and ~1.5%, so
the difference of two draws has a spread of ~0.13 dB and ~2.1%, and the tolerances are about
three of those. Measured at seed 0: at most 1.9% and 0.12 dB (spatter, elastic).
Deterministic corruptions differ only where float32 and float64 land on
different sides of a truncation boundary (measured: under 1%, 0.1 dB). A wrong parameter or a
missing step moves these statistics by far more (e.g. frost with one photograph mis-resized
moved them by 3%, 0.25 dB; one severity's parameters for another's by 10% or more).
Severities are not assumed to be monotonic (saturate, glass blur, frost, spatter and elastic
are not, by design).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cifar10c_reference import REFERENCE, corrupt_batch

from pushpull_viz.corruptions import corrupt, list_corruptions
from pushpull_viz.data import load_cifar10_jpeg75

PORTED = [name for name in list_corruptions("cifar10-c") if name in REFERENCE]


@pytest.fixture(scope="module")
def photos(data_root):
    images, _ = load_cifar10_jpeg75("test", data_root, per_class=100)
    return images


def _stats(corrupted: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    change = corrupted.astype(np.float64) - clean.astype(np.float64)
    return float(np.abs(change).mean()), float(10 * np.log10(255**2 / max((change**2).mean(), 1e-12)))


def test_every_ported_corruption_has_a_reference():
    assert len(PORTED) == len(list_corruptions("cifar10-c")) == 19


@pytest.mark.parametrize("name", PORTED)
def test_matches_the_numpy_reference(photos, name):
    clean = photos.permute(0, 2, 3, 1).numpy()
    for severity in range(1, 6):
        ours = corrupt(photos, name, severity, torch.Generator().manual_seed(0)).permute(0, 2, 3, 1).numpy()
        reference = corrupt_batch(clean, name, severity, seed=0)
        (our_change, our_psnr), (ref_change, ref_psnr) = _stats(ours, clean), _stats(reference, clean)
        assert our_change == pytest.approx(ref_change, rel=0.05), (name, severity, our_change, ref_change)
        assert our_psnr == pytest.approx(ref_psnr, abs=0.4), (name, severity, our_psnr, ref_psnr)
