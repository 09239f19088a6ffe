"""Kernel views: first_conv, spectra, montages and the three kernel figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from torch import nn  # noqa: E402

from pushpull_viz.layers import PushPull2d, PushPullNet2d  # noqa: E402
from pushpull_viz.models import build_model  # noqa: E402
from pushpull_viz.viz.kernels import (  # noqa: E402
    EPSILON,
    first_conv,
    kernel_montage,
    kernel_spectrum,
    plot_kernel_spectra,
    plot_kernels,
    plot_pull_upsampling,
    radial_profile,
    spectrum_frequencies,
)


def seeded_layer(*args, seed: int = 0, **kwargs) -> PushPull2d:
    torch.manual_seed(seed)
    return PushPull2d(*args, **kwargs)


def images_of(fig) -> list[AxesImage]:
    return [im for ax in fig.axes for im in ax.get_images()]


def scalar_images(fig) -> list[AxesImage]:
    """Images drawn through a colormap (RGB composites carry no colour limits)."""
    return [im for im in images_of(fig) if im.get_array().ndim == 2]


# ----------------------------------------------------------------------------- first_conv
def test_first_conv_finds_the_first_layer_of_models():
    pp_model = build_model("resnet20", pushpull=True)
    assert first_conv(pp_model) is pp_model.conv1 and isinstance(pp_model.conv1, PushPull2d)
    plain = build_model("lenet-a", pushpull=False)
    assert first_conv(plain) is plain.conv1 and type(plain.conv1) is nn.Conv2d
    net = nn.Sequential(nn.ReLU(), nn.Conv2d(1, 2, 3), nn.Conv2d(2, 4, 3))
    assert first_conv(net) is net[1]
    layer = PushPull2d(1, 2, 3)
    assert first_conv(layer) is layer  # the layer itself, not its inner .push conv


def test_first_conv_errors():
    with pytest.raises(ValueError, match="no nn.Conv2d or push-pull layer"):
        first_conv(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(TypeError, match="model must be"):
        first_conv("resnet20")


# ----------------------------------------------------------------------------- spectra
def test_spectrum_of_a_delta_is_flat():
    delta = torch.zeros(5, 5)
    delta[1, 3] = 2.0  # off-centre: only the phase changes
    spectrum = kernel_spectrum(delta, size=32)
    assert spectrum.shape == (32, 32)
    torch.testing.assert_close(spectrum, torch.full((32, 32), 2.0))


def test_spectrum_of_a_constant_kernel_peaks_at_dc():
    spectrum = kernel_spectrum(torch.ones(3, 3), size=16)
    dc = spectrum_frequencies(16).tolist().index(0.0)
    assert dc == 8
    assert spectrum[dc, dc].item() == pytest.approx(9.0)
    others = spectrum.clone()
    others[dc, dc] = -1
    assert others.max().item() < 9.0 - 1e-3  # a strict, single peak at DC
    assert torch.argmax(spectrum).item() == dc * 16 + dc


def test_spectrum_keeps_leading_dimensions_and_satisfies_parseval():
    kernel = torch.randn(4, 3, 5, 5, dtype=torch.float64)
    spectrum = kernel_spectrum(kernel, size=20)
    assert spectrum.shape == (4, 3, 20, 20) and spectrum.dtype == torch.float64
    energy = spectrum.pow(2).sum((-2, -1)) / 20**2
    torch.testing.assert_close(energy, kernel.pow(2).sum((-2, -1)))


def test_spectrum_of_zero_kernel_and_errors():
    assert kernel_spectrum(torch.zeros(3, 3), 8).abs().max().item() == 0.0
    with pytest.raises(ValueError, match="size must be an integer >= the kernel's side 5"):
        kernel_spectrum(torch.zeros(5, 5), size=4)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        kernel_spectrum(torch.zeros(5))
    with pytest.raises(TypeError, match="torch.Tensor"):
        kernel_spectrum([[1.0]])


def test_spectrum_frequencies_are_cycles_per_pixel():
    assert spectrum_frequencies(8).tolist() == [-0.5, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375]


def test_radial_profile_of_flat_and_dc_spectra():
    radii, profile = radial_profile(torch.full((2, 16, 16), 3.0))
    assert radii.shape == (9,) and radii[-1].item() == 0.5
    assert profile.shape == (2, 9)
    torch.testing.assert_close(profile, torch.full((2, 9), 3.0))
    dc_only = torch.zeros(16, 16)
    dc_only[8, 8] = 1.0
    _, profile = radial_profile(dc_only)
    assert profile[0].item() == 1.0 and profile[1:].abs().max().item() == 0.0
    with pytest.raises(ValueError, match=r"\(\.\.\., size, size\)"):
        radial_profile(torch.zeros(4, 5))


def test_kernel_montage_centres_kernels_in_tiles():
    kernels = torch.arange(2 * 3 * 3, dtype=torch.float32).reshape(2, 3, 3)
    image, centres = kernel_montage(kernels, tile=(7, 7), gap=1)
    assert image.shape == (7, 15)
    assert centres.tolist() == [3.0, 11.0]
    torch.testing.assert_close(image[2:5, 2:5], kernels[0])
    torch.testing.assert_close(image[2:5, 10:13], kernels[1])
    assert image[0].isnan().all() and image[:, 7].isnan().all()  # margin and gap
    rgb, _ = kernel_montage(torch.rand(3, 3, 3, 3), fill=1.0)
    assert rgb.shape == (3, 11, 3)
    with pytest.raises(ValueError, match="at least the kernel size"):
        kernel_montage(kernels, tile=(2, 2))


# ----------------------------------------------------------------------------- plot_kernels
def assert_shared_symmetric(images: list[AxesImage], expected: float | None = None) -> None:
    assert images, "no colour-mapped images"
    limits = {im.get_clim() for im in images}
    assert len(limits) == 1, f"colour limits differ: {limits}"
    low, high = limits.pop()
    assert low == -high and high > 0
    if expected is not None:
        assert high == pytest.approx(expected, rel=1e-6)


def test_plot_kernels_grayscale_pushpull():
    layer = seeded_layer(1, 6, 5, alpha=1, scale=2)
    fig = plot_kernels(layer)
    assert len(fig.axes) == 3  # push row, pull row, colourbar
    assert fig._suptitle.get_text().startswith("PushPull2d 1->6, h=2")
    expected = max(layer.push.weight.abs().max().item(), layer.pull_weight.abs().max().item())
    assert_shared_symmetric(scalar_images(fig), expected)
    push_image = fig.axes[0].get_images()[0].get_array()
    pull_image = fig.axes[1].get_images()[0].get_array()
    assert push_image.shape == pull_image.shape == (11, 6 * 12 - 1)  # push centred in pull-sized tiles
    torch.testing.assert_close(torch.as_tensor(push_image.filled(math.nan))[3:8, 3:8], layer.push.weight[0, 0].detach())
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [str(c) for c in range(6)]
    assert fig.axes[1].get_xlabel() == "output channel"
    assert all(ax.get_ylabel() for ax in fig.axes[:2])
    assert "kernel weight" in fig.axes[2].get_ylabel()


def test_plot_kernels_rgb_model_composite_and_per_channel():
    model = build_model("resnet20", pushpull=True)
    fig = plot_kernels(model, channels=[0, 3, 5])
    rows = fig.axes[:-1]
    assert len(rows) == 8  # (RGB, R, G, B) x (push, pull)
    assert [ax.get_ylabel().split("\n")[1] for ax in rows] == ["RGB (3x3)", "R", "G", "B", "RGB (7x7)", "R", "G", "B"]
    rgb = [im for im in images_of(fig) if im.get_array().ndim == 3]
    assert len(rgb) == 2
    for im in rgb:
        values = im.get_array()
        assert values.min() >= 0 and values.max() <= 1
    assert_shared_symmetric(scalar_images(fig))
    assert [t.get_text() for t in rows[0].get_xticklabels()] == ["0", "3", "5"]


def test_plot_kernels_plain_conv_has_no_pull_rows():
    conv = nn.Conv2d(1, 4, 3)
    fig = plot_kernels(conv)
    assert len(fig.axes) == 2
    assert "no pull" in fig._suptitle.get_text()
    assert_shared_symmetric(scalar_images(fig), conv.weight.abs().max().item())


def test_plot_kernels_zero_kernel_does_not_crash():
    layer = PushPull2d(1, 2, 3)
    with torch.no_grad():
        layer.push.weight.zero_()
    fig = plot_kernels(layer)
    assert_shared_symmetric(scalar_images(fig), EPSILON)


def test_plot_kernels_channel_errors():
    layer = PushPull2d(1, 4, 3)
    with pytest.raises(ValueError, match=r"channels must lie in 0..3"):
        plot_kernels(layer, channels=[4])
    with pytest.raises(ValueError, match="channels must not be empty"):
        plot_kernels(layer, channels=[])
    with pytest.raises(TypeError, match="channels must"):
        plot_kernels(layer, channels=True)


# ----------------------------------------------------------------------------- up-sampling
@pytest.mark.parametrize("size,scale,rule", [(5, 2.0, "h=2: 5x5 -> 11x11"), (3, 1.5, "h=1.5: 3x3 -> 5x5"),
                                             (3, 2.0, "h=2: 3x3 -> 7x7")])
def test_plot_pull_upsampling_steps_match_the_layer(size, scale, rule):
    layer = seeded_layer(2, 3, size, scale=scale)
    fig = plot_pull_upsampling(layer, out_channel=2, in_channel=1)
    assert fig._suptitle.get_text().splitlines()[0] == rule
    push, up, pull = (ax.get_images()[0].get_array() for ax in fig.axes[:3])
    torch.testing.assert_close(torch.as_tensor(push), layer.push.weight[2, 1].detach())
    expected_up = F.interpolate(layer.push.weight.detach(), size=layer.pull_kernel_size, mode="bilinear",
                                align_corners=True)[2, 1]
    torch.testing.assert_close(torch.as_tensor(up), expected_up)
    torch.testing.assert_close(torch.as_tensor(pull), layer.pull_weight[2, 1].detach())
    assert_shared_symmetric(images_of(fig))
    assert all(ax.get_title() for ax in fig.axes[:3]) and all(ax.get_xlabel() for ax in fig.axes[:3])
    assert len(fig.axes) == 4  # three panels + colourbar


def test_plot_pull_upsampling_plain_conv_and_errors():
    fig = plot_pull_upsampling(nn.Conv2d(1, 2, 3))
    assert fig._suptitle.get_text().startswith("h=2: 3x3 -> 7x7") and "plain conv" in fig._suptitle.get_text()
    zero = PushPull2d(1, 1, 3)
    with torch.no_grad():
        zero.push.weight.zero_()
    assert_shared_symmetric(images_of(plot_pull_upsampling(zero)), EPSILON)
    with pytest.raises(ValueError, match=r"out_channel must lie in 0..1"):
        plot_pull_upsampling(PushPull2d(1, 2, 3), out_channel=2)
    with pytest.raises(ValueError, match="2024 variant"):
        plot_pull_upsampling(PushPullNet2d(1, 2, 3))
    with pytest.raises(ValueError, match="scale"):
        plot_pull_upsampling(PushPull2d(1, 2, 3), scale=0.5)


# ----------------------------------------------------------------------------- spectra figure
def test_plot_kernel_spectra_layout_and_shared_scale():
    layer = seeded_layer(3, 6, 3)
    fig = plot_kernel_spectra(layer, channels=[1, 4], size=32)
    assert len(fig.axes) == 3 * 2 + 1
    spectra = images_of(fig)
    assert len(spectra) == 4 and all(im.get_array().shape == (32, 32) for im in spectra)
    limits = {im.get_clim() for im in spectra}
    assert len(limits) == 1
    low, high = limits.pop()
    assert high - low == pytest.approx(40.0)  # the default 40 dB range
    assert "root-sum-square" in fig._suptitle.get_text()
    rss = kernel_spectrum(layer.push.weight.detach()[4], 32).pow(2).sum(0).sqrt()
    torch.testing.assert_close(torch.as_tensor(spectra[1].get_array()), 20 * torch.log10(rss))  # push, ch 4
    assert [fig.axes[0].get_title(), fig.axes[1].get_title()] == ["ch 1", "ch 4"]
    profile_axes = fig.axes[4:6]
    assert all(len(ax.get_lines()) == 2 for ax in profile_axes)  # push and pull profiles
    assert profile_axes[0].get_xlabel().startswith("|f|")


def test_plot_kernel_spectra_linear_plain_conv_and_zero_kernel():
    conv = nn.Conv2d(1, 2, 3, bias=False)
    fig = plot_kernel_spectra(conv, size=16, db_range=None)
    assert len(fig.axes) == 2 * 2 + 1  # push row + profiles, no pull
    expected = kernel_spectrum(conv.weight.detach(), 16).max().item()
    limits = {im.get_clim() for im in images_of(fig)}
    assert len(limits) == 1
    low, high = limits.pop()
    assert low == 0.0 and high == pytest.approx(expected)
    zero = PushPull2d(1, 2, 3)
    with torch.no_grad():
        zero.push.weight.zero_()
    plot_kernel_spectra(zero, size=8)
    with pytest.raises(ValueError, match="input_channel"):
        plot_kernel_spectra(PushPull2d(3, 2, 3), input_channel=3)
    with pytest.raises(ValueError, match="db_range"):
        plot_kernel_spectra(conv, db_range=-5)
