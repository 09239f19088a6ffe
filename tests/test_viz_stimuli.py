"""Stimuli for the intuition notebook: the Gabor kernel is oriented, the layer pair is consistent."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pushpull_viz.viz.stimuli import edge_image, gabor_kernel, grating, pushpull_from_kernel


def test_gabor_prefers_its_orientation():
    kernel = gabor_kernel(7, theta=0, phase=90)[None, None]
    vertical, horizontal = edge_image(21, theta=0)[None], edge_image(21, theta=90)[None]
    assert F.conv2d(vertical, kernel).abs().max() > 10 * F.conv2d(horizontal, kernel).abs().max().clamp_min(1e-6)
    assert torch.allclose(gabor_kernel(7, theta=90), gabor_kernel(7, theta=0).T, atol=1e-6)


def test_grating_range_and_period():
    g = grating(16, theta=0, wavelength=4)[0]
    assert torch.allclose(g[:, 0], g[:, 4]) and g.min() >= 0 and g.max() <= 1
    assert torch.allclose(grating(8, contrast=0), torch.full((1, 8, 8), 0.5))


def test_pushpull_pair_shares_weights():
    layer, conv = pushpull_from_kernel(gabor_kernel(5), alpha=0.0)
    x = torch.rand(2, 1, 12, 12)
    torch.testing.assert_close(layer(x), F.relu(conv(x)))  # alpha = 0: only the rectified push
    layer.alpha = 1.0
    assert (layer(x) <= F.relu(conv(x)) + 1e-6).all()  # inhibition only subtracts


@pytest.mark.parametrize("call,message", [
    (lambda: gabor_kernel(4), "odd"),
    (lambda: gabor_kernel(5, wavelength=0), "wavelength"),
    (lambda: grating(8, contrast=2), "contrast"),
    (lambda: pushpull_from_kernel(torch.zeros(3, 5)), "square"),
])
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
