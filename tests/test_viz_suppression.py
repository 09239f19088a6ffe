"""The suppression measures: detectability of the preferred pattern, with push-only, pull-only and wide controls."""

from __future__ import annotations

import math

import pytest
import torch

from pushpull_viz.layers import PushPull2d
from pushpull_viz.models import build_model
from pushpull_viz.viz import edge_image, gabor_kernel, pushpull_from_kernel
from pushpull_viz.viz.features import feature_snr
from pushpull_viz.viz.suppression import (
    d_prime,
    detectability,
    plot_detectability,
    preferred_stimulus,
    response_variants,
)


@pytest.fixture(scope="module")
def gabor():
    layer, _ = pushpull_from_kernel(gabor_kernel(7, theta=0, wavelength=8, phase=-90))
    return layer


def test_d_prime_by_hand_and_edge_cases():
    assert d_prime(torch.tensor([2.0, 4.0]), torch.tensor([0.0, 2.0])) == pytest.approx(2 / math.sqrt(2))
    assert d_prime(torch.zeros(5), torch.zeros(5)) == 0.0
    assert d_prime(torch.ones(5), torch.zeros(5)) == math.inf


def test_response_variants_are_the_layer_and_its_controls(gabor):
    x = torch.rand(2, 1, 20, 20)
    maps = response_variants(gabor, x, alpha=0.7)
    with torch.no_grad():
        gabor.alpha = 0.7
        torch.testing.assert_close(maps["push-pull"], gabor(x))
        gabor.alpha = 1.0
        push, pull = gabor.push_pull_responses(x)
    torch.testing.assert_close(maps["push only"], push)
    torch.testing.assert_close(maps["pull only"], -0.7 * pull)
    wide = torch.relu(torch.nn.functional.conv2d(x, -gabor.pull_weight, padding=gabor.pull_padding))
    torch.testing.assert_close(maps["wide conv"], wide)


def test_preferred_stimulus_is_the_kernel_on_grey():
    layer = PushPull2d(1, 2, 5)
    stimulus = preferred_stimulus(layer, 1, 15, contrast=0.5)
    kernel = layer.push.weight.detach()[1, 0]
    patch = stimulus[0, 5:10, 5:10] - 0.5
    torch.testing.assert_close(patch, 0.25 * kernel / kernel.abs().max())
    assert stimulus[0, 0].eq(0.5).all()
    with pytest.raises(ValueError, match="size must be at least the kernel size 5"):
        preferred_stimulus(layer, 0, 3)


@pytest.mark.parametrize("readout", ["rectified", "signed"])
def test_pull_only_does_not_grow_with_alpha(gabor, readout):
    """The confound of the pooled SNR: there, a pull-only output scores better the larger alpha.
    Here its detectability is the same for every alpha > 0 (0 when rectified: it never fires)."""
    table = detectability(gabor, [0.1], alphas=[0.5, 1.0, 4.0, 32.0, 1000.0], trials=64, readout=readout)
    pull = table[table["response"] == "pull only"]["d_prime"].to_numpy()
    assert pull == pytest.approx(pull[0]) and (readout == "signed" or pull[0] == 0.0)
    # while the pooled feature-map SNR of the push-pull output climbs towards the pull branch's own with alpha
    snr = feature_snr(gabor, torch.rand(8, 1, 28, 28), [0.1], alphas=[0.0, 1.0, 32.0, 1000.0])["snr_db"].to_numpy()
    assert (snr[1:] > snr[:-1]).all()


def test_large_alpha_signed_detectability_tends_to_the_pull_branch(gabor):
    table = detectability(gabor, [0.2], alphas=[1000.0], trials=64, readout="signed")
    by = table.set_index("response")["d_prime"]
    assert by["push-pull"] == pytest.approx(by["pull only"], rel=0.05)


def test_rectified_readout_kept_and_noise_response(gabor):
    table = detectability(gabor, [0.05, 0.2], alphas=[0.0, 1.0], trials=64)
    push = table[table["response"] == "push only"]
    assert push["kept"].eq(1.0).all() and push["noise_response"].eq(1.0).all()
    zero = table[(table["response"] == "push-pull") & (table["alpha"] == 0.0)].set_index("noise_level")["d_prime"]
    torch.testing.assert_close(torch.tensor(zero.to_numpy()), torch.tensor(push.set_index("noise_level")["d_prime"]
                                                                          .to_numpy()))
    # d' falls with the noise level for every response that fires
    for name in ("push only", "wide conv"):
        values = table[table["response"] == name].sort_values("noise_level")["d_prime"].to_numpy()
        assert values[0] > values[1]


def test_given_stimulus_model_and_normalisation():
    model = build_model("lenet-a", pushpull=True)
    table = detectability(model, [0.1], alphas=[1.0], channels=[0, 1], trials=16)
    assert set(table["channel"]) == {0, 1} and table["d_prime"].notna().all()
    layer, _ = pushpull_from_kernel(gabor_kernel(7, phase=-90))
    edge = detectability(layer, [0.1], alphas=[1.0], stimulus=edge_image(32), trials=16)
    assert len(edge) == 4


def test_errors(gabor):
    with pytest.raises(TypeError, match="PushPull2d"):
        detectability(torch.nn.Conv2d(1, 2, 3), [0.1])
    with pytest.raises(ValueError, match="readout must be"):
        detectability(gabor, [0.1], readout="both")
    with pytest.raises(ValueError, match="noise_levels must not be empty"):
        detectability(gabor, [])
    with pytest.raises(ValueError, match="unknown corruption"):
        detectability(gabor, [0.1], corruption="noise")
    with pytest.raises(ValueError, match="does not respond to the stimulus"):
        detectability(gabor, [0.1], stimulus=torch.full((1, 32, 32), 0.5), trials=4)


def test_plot(gabor):
    table = detectability(gabor, [0.05, 0.2], alphas=[0.0, 1.0, 2.0], trials=16)
    fig = plot_detectability(table)
    left, right = fig.axes[:2]
    assert left.get_ylabel().startswith("d'") and right.get_xlabel().startswith("alpha")
    assert len(left.get_lines()) == 4
    with pytest.raises(ValueError, match="level must be one of"):
        plot_detectability(table, level=0.3)
