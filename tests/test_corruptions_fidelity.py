"""Fidelity: each ported CIFAR-10-C corruption against an independent per-image numpy/scipy/PIL
implementation of the published recipe (tests/cifar10c_reference.py), on 200 real photographs
(the JPEG-75 CIFAR-10 test copy, 20 per class).

Per severity, the mean absolute change to the image and the PSNR must agree:
  * mean |change| within 5% (relative). For the noise corruptions the two sides draw different
    random numbers; over 200 x 3072 values the sampling error of the mean change is under 1%,
    except impulse noise at amount 0.01 (about 6,000 replaced values: ~1.3% standard error), so 5%
    is about three standard errors there. Deterministic corruptions differ only where float32 and
    float64 land on different sides of a truncation boundary (measured: under 1%).
  * PSNR within 0.25 dB (measured differences: at most 0.1 dB).
Severities are not assumed to be monotonic (saturate is not, by design).
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
    images, _ = load_cifar10_jpeg75("test", data_root, per_class=20)
    return images


def _stats(corrupted: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    change = corrupted.astype(np.float64) - clean.astype(np.float64)
    return float(np.abs(change).mean()), float(10 * np.log10(255**2 / max((change**2).mean(), 1e-12)))


def test_every_ported_corruption_has_a_reference():
    assert len(PORTED) == len(list_corruptions("cifar10-c")) == 11


@pytest.mark.parametrize("name", PORTED)
def test_matches_the_numpy_reference(photos, name):
    clean = photos.permute(0, 2, 3, 1).numpy()
    for severity in range(1, 6):
        ours = corrupt(photos, name, severity, torch.Generator().manual_seed(0)).permute(0, 2, 3, 1).numpy()
        reference = corrupt_batch(clean, name, severity, seed=0)
        (our_change, our_psnr), (ref_change, ref_psnr) = _stats(ours, clean), _stats(reference, clean)
        assert our_change == pytest.approx(ref_change, rel=0.05), (name, severity, our_change, ref_change)
        assert our_psnr == pytest.approx(ref_psnr, abs=0.25), (name, severity, our_psnr, ref_psnr)
