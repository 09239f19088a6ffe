"""Feature maps and feature-map SNR: layer_responses, feature_snr and their figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from pushpull_viz.corruptions import gaussian_noise_variance  # noqa: E402
from pushpull_viz.layers import PushPull2d, create_pushpull  # noqa: E402
from pushpull_viz.models import build_model  # noqa: E402
from pushpull_viz.viz.features import (  # noqa: E402
    FeatureMapPlot,
    feature_snr,
    interior_mask,
    layer_responses,
    plot_feature_maps,
    plot_snr_curves,
    pushpull_output,
    snr_db,
)
from pushpull_viz.viz.kernels import EPSILON  # noqa: E402
from pushpull_viz.viz.stimuli import edge_image, gabor_kernel, pushpull_from_kernel  # noqa: E402


def pp_and_twin(in_channels: int = 1, out_channels: int = 4, size: int = 5, seed: int = 0, **kwargs):
    """A push-pull layer and a plain conv with the same push weights."""
    torch.manual_seed(seed)
    pp = create_pushpull(in_channels, out_channels, size, padding=size // 2, **kwargs)
    conv = nn.Conv2d(in_channels, out_channels, size, padding=size // 2, bias=pp.push.bias is not None)
    with torch.no_grad():
        conv.weight.copy_(pp.push.weight)
        if conv.bias is not None:
            conv.bias.copy_(pp.push.bias)
    return pp, conv


def digits(n: int = 4, seed: int = 0) -> torch.Tensor:
    """Stroke-like test images in [0, 1]: bright bars on black, as MNIST has."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 1, 20, 20)
    for i in range(n):
        r, c = torch.randint(3, 14, (2,), generator=g).tolist()
        images[i, 0, r:r + 6, c:c + 2] = 1.0
        images[i, 0, r, c:c + 5] = 0.8
    return images


# ----------------------------------------------------------------------------- layer_responses
@pytest.mark.parametrize("kwargs", [{"alpha": 1.0}, {"alpha": 0.3, "scale": 1.5}, {"trainable_alpha": True},
                                    {"variant": "2024", "bias": True}, {"bias": True}])
def test_layer_responses_output_equals_the_layer(kwargs):
    pp, _ = pp_and_twin(3, 5, 3, **kwargs)
    if kwargs.get("variant") == "2024":
        with torch.no_grad():
            pp.bias.normal_()
    image = torch.rand(3, 12, 12)
    maps = layer_responses(pp, image)
    assert set(maps) == {"push", "pull", "output"}
    assert maps["output"].shape == (5, 12, 12)
    with torch.no_grad():
        expected = pp(image[None])[0]
        push, pull = pp.push_pull_responses(image[None])
    torch.testing.assert_close(maps["output"], expected)
    torch.testing.assert_close(maps["push"], push[0])
    torch.testing.assert_close(maps["pull"], pull[0])
    assert (maps["push"] >= 0).all() and (maps["pull"] >= 0).all()


def test_layer_responses_batched_uint8_alpha_override_and_conv():
    pp, conv = pp_and_twin()
    images = (torch.rand(2, 1, 16, 16) * 255).to(torch.uint8)
    maps = layer_responses(pp, images, alpha=0.25)
    assert maps["output"].shape == (2, 4, 16, 16)
    torch.testing.assert_close(maps["output"], maps["push"] - 0.25 * maps["pull"])
    with torch.no_grad():
        torch.testing.assert_close(maps["push"], F.relu(pp.push(images.float() / 255)))
    assert pp.alpha == 1.0  # the layer is not changed by the override
    conv_maps = layer_responses(conv, images)
    assert set(conv_maps) == {"output"}
    torch.testing.assert_close(conv_maps["output"], maps["push"])  # ReLU(conv) = the push branch


def test_layer_responses_of_a_model_use_its_normalisation():
    model = build_model("lenet-a", pushpull=True)
    image = torch.rand(1, 28, 28)
    maps = layer_responses(model, image)
    with torch.no_grad():
        expected = model.conv1(model.normalize(image[None]))[0]
    torch.testing.assert_close(maps["output"], expected)
    raw = layer_responses(model, image, normalize=None)["output"]
    with torch.no_grad():
        torch.testing.assert_close(raw, model.conv1(image[None])[0])
    assert not torch.allclose(raw, maps["output"])


def test_layer_responses_zero_image_and_errors():
    pp, conv = pp_and_twin(bias=False)
    maps = layer_responses(pp, torch.zeros(1, 10, 10))
    assert all(m.abs().max().item() == 0 for m in maps.values())
    assert layer_responses(pp, torch.rand(10, 10))["output"].shape == (4, 10, 10)  # (H, W): one grey image
    with pytest.raises(ValueError, match=r"image must have shape \(C, H, W\) or \(N, C, H, W\), got shape"):
        layer_responses(pp, torch.rand(1, 1, 1, 10, 10))
    with pytest.raises(ValueError, match=r"image has 3 channel\(s\) .* but the layer expects in_channels=1"):
        layer_responses(conv, torch.rand(3, 10, 10))
    with pytest.raises(ValueError, match=r"alpha \(inhibition strength\) must be a finite number >= 0"):
        layer_responses(pp, torch.rand(1, 10, 10), alpha=-0.5)
    with pytest.raises(TypeError, match="uint8 or floating point"):
        layer_responses(pp, torch.ones(1, 10, 10, dtype=torch.int64))
    with pytest.raises(TypeError, match="layer must be"):
        layer_responses("conv", torch.rand(1, 10, 10))


def test_pushpull_output_learned_alpha_is_clamped():
    push, pull = torch.ones(2, 3, 3), torch.ones(2, 3, 3)
    out = pushpull_output(push, pull, torch.tensor([-1.0, 2.0]).view(1, 2, 1, 1))
    assert out[0].unique().tolist() == [1.0] and out[1].unique().tolist() == [-1.0]
    with pytest.raises(ValueError, match="same shape"):
        pushpull_output(push, pull[:1], 1.0)


# ----------------------------------------------------------------------------- feature_snr
def test_snr_db_edge_cases():
    assert snr_db(10.0, 1.0) == pytest.approx(10.0)
    assert snr_db(1.0, 0.0) == math.inf
    assert math.isnan(snr_db(0.0, 0.0))
    assert snr_db(0.0, 2.0) == -math.inf


def test_feature_snr_decreases_with_noise_and_is_inf_without():
    pp, conv = pp_and_twin()
    levels = [0.0, 0.01, 0.05, 0.2, 0.5]
    df = feature_snr({"pp": pp, "plain": conv}, digits(), levels, alphas=[0.0, 1.0, 2.0])
    assert len(df) == len(levels) * (3 + 1)
    assert {"layer", "kind", "alpha", "noise_level", "snr_db", "signal_energy", "noise_energy"} <= set(df.columns)
    for (_, _), part in df.groupby(["layer", "alpha_label"]):
        part = part.sort_values("noise_level")
        assert part["snr_db"].iloc[0] == math.inf and part["noise_energy"].iloc[0] == 0.0
        finite = part["snr_db"].iloc[1:].to_numpy()
        assert (finite[:-1] > finite[1:]).all(), finite  # strictly lower SNR at higher noise
    assert set(df[df.kind == "conv"]["alpha"].isna()) == {True}
    assert pp.alpha == 1.0  # no alpha was left on the layer


def test_feature_snr_alpha_zero_equals_the_plain_twin():
    pp, conv = pp_and_twin(seed=3)
    df = feature_snr({"pp": pp, "plain": conv}, digits(), [0.02, 0.1, 0.3], alphas=[0.0, 1.0], seed=5)
    pp0 = df[(df.layer == "pp") & (df.alpha == 0.0)].sort_values("noise_level")["snr_db"].to_numpy()
    plain = df[df.layer == "plain"].sort_values("noise_level")["snr_db"].to_numpy()
    assert pp0 == pytest.approx(plain, rel=1e-6)
    pp1 = df[(df.layer == "pp") & (df.alpha == 1.0)].sort_values("noise_level")["snr_db"].to_numpy()
    assert not pp1 == pytest.approx(plain, rel=1e-3)  # alpha matters, so the equality above is not vacuous


def test_feature_snr_matches_the_documented_measure():
    pp, _ = pp_and_twin(seed=1)
    images = digits(3)
    df = feature_snr(pp, images, [0.1], alphas=[0.7], seed=11)
    noisy = gaussian_noise_variance(images, 0.1, torch.Generator().manual_seed(11)).clamp(0, 1)
    with torch.no_grad():
        clean_r = layer_responses(pp, images, alpha=0.7)["output"].double()
        noisy_r = layer_responses(pp, noisy, alpha=0.7)["output"].double()
    expected = 10 * math.log10(clean_r.pow(2).sum().item() / (noisy_r - clean_r).pow(2).sum().item())
    assert df["snr_db"].item() == pytest.approx(expected, rel=1e-9)
    again = feature_snr(pp, images, [0.1], alphas=[0.7], seed=11, batch_size=1)
    assert again["snr_db"].item() == pytest.approx(expected, rel=1e-9)  # batching does not change the result
    other_seed = feature_snr(pp, images, [0.1], alphas=[0.7], seed=12)
    assert other_seed["snr_db"].item() != pytest.approx(expected, rel=1e-9)


def test_feature_snr_cifar_severities_callable_and_arbitrary_levels():
    pp, conv = pp_and_twin(3, 4, 3)
    images = (torch.rand(2, 3, 16, 16) * 255).to(torch.uint8)
    df = feature_snr({"pp": pp, "plain": conv}, images, [1, 3, 5], corruption="gaussian_noise", as_severity=True)
    assert df["severity"].tolist() == [1, 1, 3, 3, 5, 5]
    assert df["noise_level"].tolist() == [0.04, 0.04, 0.08, 0.08, 0.1, 0.1]
    assert df["parameter"].iloc[0] == "noise sigma"

    def add_constant(x, level, generator):
        return (x + level).clamp(0, 1)

    custom = feature_snr(conv, images, [0.0, 0.1], corruption=add_constant)
    assert custom["corruption"].iloc[0] == "add_constant" and custom["snr_db"].iloc[0] == math.inf
    odd = feature_snr(pp, digits()[:, :, :16, :16].repeat(1, 3, 1, 1), [0.013, 0.37])  # not registry severities
    assert odd["snr_db"].iloc[0] > odd["snr_db"].iloc[1]


def test_feature_snr_degenerate_inputs_do_not_crash():
    pp, conv = pp_and_twin()
    df = feature_snr({"pp": pp, "plain": conv}, torch.zeros(2, 1, 12, 12), [0.0, 0.1], alphas=[1.0])
    assert math.isnan(df["snr_db"].iloc[0])  # no signal and no noise
    with torch.no_grad():
        pp.push.weight.zero_()
    zero = feature_snr(pp, digits(), [0.0, 0.1])
    assert math.isnan(zero["snr_db"].iloc[0]) and math.isnan(zero["snr_db"].iloc[1])


def test_feature_snr_errors():
    pp, conv = pp_and_twin()
    images = digits()
    with pytest.raises(ValueError, match="noise_levels must not be empty"):
        feature_snr(pp, images, [])
    with pytest.raises(ValueError, match="alphas must not be empty"):
        feature_snr(pp, images, [0.1], alphas=[])
    with pytest.raises(ValueError, match=r"alphas \(inhibition strength\) must be a finite number >= 0"):
        feature_snr(pp, images, [0.1], alphas=[1.0, -0.1])
    with pytest.raises(ValueError, match=r"images has 3 channel\(s\) .* but the layer expects in_channels=1"):
        feature_snr(pp, torch.rand(2, 3, 12, 12), [0.1])
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        feature_snr(pp, images * 255, [0.1])
    with pytest.raises(ValueError, match=r"noise_levels must be severities.* in 1..5"):
        feature_snr(pp_and_twin(3, 2, 3)[0], torch.rand(1, 3, 8, 8), [0, 6], corruption="gaussian_noise",
                    as_severity=True)
    with pytest.raises(ValueError, match="needs a registered corruption name"):
        feature_snr(pp, images, [1], corruption=lambda x, level, g: x, as_severity=True)
    with pytest.raises(ValueError, match="unknown corruption"):
        feature_snr(pp, images, [0.1], corruption="gausian_noise")
    with pytest.raises(ValueError, match="non-empty mapping"):
        feature_snr({}, images, [0.1])


# ----------------------------------------------------------------------------- figures
def clims_by_row(fig, n_conditions: int) -> list[set]:
    """Colour limits of each map row (the input row skipped), one set per row."""
    rows = []
    axes = fig.axes[n_conditions:]
    step = n_conditions + 1  # strips + colourbar
    for r in range(0, len(axes), step):
        rows.append({ax.get_images()[0].get_clim() for ax in axes[r:r + n_conditions]})
    return rows


def test_plot_feature_maps_rows_and_shared_scales():
    pp, conv = pp_and_twin(out_channels=6)
    pp2 = PushPull2d(1, 6, 5, padding=2, alpha=2.0)
    with torch.no_grad():
        pp2.push.weight.copy_(0.5 * pp.push.weight.flip(-1))  # the first layer has the larger maps
    image = digits(1)[0]
    noisy = gaussian_noise_variance(image[None], 0.2, torch.Generator().manual_seed(0)).clamp(0, 1)[0]
    fig = plot_feature_maps({"plain": conv, "pp": pp, "pp2": pp2}, image, noisy, channels=[0, 2, 5],
                            noise_label="sigma^2=0.2")
    n_rows = 1 + 3 + 3
    assert len(fig.axes) == 2 + n_rows * 3
    assert fig._suptitle.get_text() and "shared within each row type" in " ".join(fig._supxlabel.get_text().split())
    assert [fig.axes[0].get_title(loc="left"), fig.axes[1].get_title(loc="left")] == \
        ["clean image", "noisy image (sigma^2=0.2)"]
    rows = clims_by_row(fig, 2)
    assert all(len(limits) == 1 for limits in rows)  # clean and noisy strips share each row's scale
    limits = [next(iter(r)) for r in rows]
    conv_lim, push1, pull1, out1, push2, pull2, out2 = limits
    assert push1 == push2 and pull1 == pull2 and out1 == out2  # row types shared across layers
    assert out1[0] == -out1[1] and out1[1] > 0  # the signed output is symmetric about 0
    assert conv_lim[0] == 0 and push1[0] == 0 and pull1[0] == 0
    strip = fig.axes[2].get_images()[0].get_array()
    assert strip.shape[0] == 20 and [t.get_text() for t in fig.axes[2].get_xticklabels()] == ["0", "2", "5"]
    inside = interior_mask((20, 20), 5)  # pull kernels 11x11: 5 pixels at the border see the padding
    for kind, limit in (("push", push1), ("pull", pull1), ("output", out1)):
        values = torch.cat([layer_responses(layer, x)[kind][[0, 2, 5]][..., inside].abs().flatten()
                            for x in (image, noisy) for layer in (pp, pp2)])
        assert limit[1] == pytest.approx(torch.quantile(values, 0.995).item(), rel=1e-5), kind
    assert all(ax.get_ylabel() for ax in fig.axes[2::3][:n_rows - 1])


def test_plot_feature_maps_clean_only_model_zero_image_and_errors():
    model = build_model("resnet20", pushpull=True)
    fig = plot_feature_maps({"resnet20-pp": model}, torch.zeros(3, 32, 32))
    assert len(fig.axes) == 1 + 3 * 2
    for limits in clims_by_row(fig, 1):
        assert len(limits) == 1 and next(iter(limits))[1] > 0
    zero_fig = plot_feature_maps(PushPull2d(1, 2, 3, padding=1), torch.zeros(1, 8, 8), torch.zeros(1, 8, 8))
    assert next(iter(clims_by_row(zero_fig, 2)[0])) == (0.0, EPSILON)
    pp, _ = pp_and_twin()
    with pytest.raises(ValueError, match="noisy_image must have the same shape as image"):
        plot_feature_maps({"pp": pp}, torch.rand(1, 8, 8), torch.rand(1, 9, 9))
    with pytest.raises(ValueError, match="image must be one image"):
        plot_feature_maps({"pp": pp}, torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"channels must lie in 0..3"):
        plot_feature_maps({"pp": pp}, torch.rand(1, 8, 8), channels=[7])
    with pytest.raises(ValueError, match=r"image has 3 channel\(s\)"):
        plot_feature_maps({"pp": pp}, torch.rand(3, 8, 8))


def test_feature_map_plot_updates_in_place():
    pp, conv = pp_and_twin()
    image = digits(1)[0]
    view = FeatureMapPlot({"plain": conv, "pp": pp}, image, torch.rand(1, 20, 20))
    fig = view.figure
    output_artist = fig.axes[-3].get_images()[0]  # pp output row, clean strip
    before = output_artist.get_array().copy()
    assert view.update(alpha=0.0) is fig
    maps = view.maps["pp"]["clean"]
    torch.testing.assert_close(maps["output"], maps["push"])
    after = output_artist.get_array()
    assert not (before == after).all()
    assert "alpha=0" in fig._suptitle.get_text()
    inside = interior_mask((20, 20), view.border)
    peak = torch.quantile(torch.cat([view.maps["pp"][c]["push"][..., inside].abs().flatten()
                                     for c in ("clean", "noisy")]), 0.995).item()
    assert output_artist.get_clim() == pytest.approx((-peak, peak))  # the colour scale follows the new maps
    new_noisy = torch.rand(1, 20, 20)
    view.update(noisy_image=new_noisy, alpha=None, noise_label="new")
    torch.testing.assert_close(view.maps["pp"]["noisy"]["output"], layer_responses(pp, new_noisy)["output"])
    assert fig.axes[1].get_title(loc="left") == "noisy image (new)"
    fig.canvas.draw()
    clean_only = FeatureMapPlot(conv, image)
    with pytest.raises(ValueError, match="no noisy column"):
        clean_only.update(noisy_image=torch.rand(1, 20, 20))
    with pytest.raises(ValueError, match="same shape"):
        view.update(image=torch.rand(1, 10, 10))


def test_plot_snr_curves_lines_labels_and_dropped_inf():
    pp, conv = pp_and_twin()
    df = feature_snr({"pp": pp, "plain": conv}, digits(), [0.0, 0.05, 0.2], alphas=[0.0, 1.0, 2.0])
    fig = plot_snr_curves(df)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "noise level (noise variance sigma^2)"
    assert ax.get_ylabel() == "feature-map SNR (dB)"
    assert fig._suptitle.get_text() == "First-layer feature SNR under mnist_gaussian_noise"
    assert "4 non-finite" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["alpha=0", "alpha=1", "alpha=2", "plain (plain conv, ReLU)"]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and list(dashed[0].get_xdata()) == [0.05, 0.2]
    drawn = [line for line in ax.get_lines() if len(line.get_xdata())]  # seaborn adds empty legend proxies
    assert len(drawn) == 4 and all(list(line.get_xdata()) == [0.05, 0.2] for line in drawn)


def test_plot_snr_curves_severity_axis_all_inf_and_errors():
    pp, _ = pp_and_twin(3, 2, 3)
    images = torch.rand(1, 3, 8, 8)
    df = feature_snr(pp, images, [1, 2], corruption="glass_blur", as_severity=True)  # tuple levels
    fig = plot_snr_curves(df)
    assert fig.axes[0].get_xlabel() == "severity"
    all_inf = feature_snr(pp, images, [0.0], corruption="gaussian_noise")
    fig = plot_snr_curves(all_inf)
    assert any("no finite SNR" in t.get_text() for t in fig.axes[0].texts)
    with pytest.raises(ValueError, match="missing columns"):
        plot_snr_curves(pd.DataFrame({"snr_db": [1.0]}))
    with pytest.raises(TypeError, match="DataFrame"):
        plot_snr_curves([1, 2])


def test_a_padding_edge_does_not_set_the_colour_scale():
    """A bright image next to the zero padding is an edge of the opposite polarity: the pull fires
    hard along the border. The colour limits come from the interior, so the noise stays visible."""
    layer, _ = pushpull_from_kernel(gabor_kernel(7, theta=0, wavelength=8, phase=-90))
    image = edge_image(48)
    noisy = gaussian_noise_variance(image[None], 0.1, torch.Generator().manual_seed(0)).clamp(0, 1)[0]
    view = FeatureMapPlot({"pp": layer}, image, noisy)
    assert view.border == 7
    pull = torch.cat([view.maps["pp"][c]["pull"].flatten() for c in ("clean", "noisy")])
    pull_limit = view.figure.axes[5].get_images()[0].get_clim()[1]
    assert pull.max() > 3 * pull_limit  # the border response is far larger than the scale it is drawn on
    whole = FeatureMapPlot({"pp": layer}, image, noisy, border=0, quantile=1.0)
    assert whole.figure.axes[5].get_images()[0].get_clim()[1] == pytest.approx(pull.max().item())
    assert "7-pixel border excluded" in " ".join(view.figure._supxlabel.get_text().split())
    with pytest.raises(ValueError, match="border must be"):
        FeatureMapPlot({"pp": layer}, image, border=-1)
