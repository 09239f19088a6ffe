"""Attribution maps (pushpull_viz.viz.attribution): shapes, targets, completeness, side effects, figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

pytest.importorskip("captum.attr")

from pushpull_viz.layers import PushPull2d  # noqa: E402
from pushpull_viz.models import build_model  # noqa: E402
from pushpull_viz.viz.attribution import (  # noqa: E402
    METHODS,
    attribute,
    attribution_overlap,
    attribution_summary,
    first_conv_layer,
    gradcam_layer,
    plot_attributions,
    to_heatmap,
)

PIXEL_METHODS = ("integrated_gradients", "saliency", "smoothgrad", "guided_gradcam")
FAST = {"integrated_gradients": {"n_steps": 8}, "smoothgrad": {"nt_samples": 4}}


@pytest.fixture(scope="module")
def lenet_pp() -> nn.Module:
    torch.manual_seed(0)
    return build_model("lenet-a", pushpull=True).eval()


@pytest.fixture(scope="module")
def lenet_plain() -> nn.Module:
    torch.manual_seed(1)
    return build_model("lenet-a").eval()


@pytest.fixture(scope="module")
def resnet_pp() -> nn.Module:
    torch.manual_seed(0)
    return build_model("resnet20", pushpull=True).eval()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _digits(n: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def _hooks(model: nn.Module) -> list[str]:
    """Names of modules that hold any hook (forward, forward-pre, backward, backward-pre)."""
    kinds = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
    return [f"{name}.{kind}" for name, module in model.named_modules() for kind in kinds
            if len(getattr(module, kind, {}))]


class IgnoresInput(nn.Module):
    """Logits that do not depend on the input: ``0 * conv(x)`` (a connected graph) plus a bias,
    or with ``connected=False`` the bias alone (the input is not in the graph at all)."""

    def __init__(self, connected: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bias = nn.Parameter(torch.linspace(-1, 1, 10))
        self.connected = connected

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.bias.expand(x.shape[0], -1)
        return logits + 0 * self.conv(x).mean((1, 2, 3))[:, None] if self.connected else logits


# ------------------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("method", METHODS)
def test_shapes_three_channels(resnet_pp, method):
    x = torch.rand(2, 3, 32, 32)
    out = attribute(resnet_pp, x, method=method, **FAST.get(method, {}))
    expected = (2, 1, 32, 32) if method == "gradcam" else (2, 3, 32, 32)
    assert out.shape == expected
    assert not out.requires_grad and torch.isfinite(out).all() and out.abs().sum() > 0


@pytest.mark.parametrize("method", METHODS)
def test_shapes_one_channel_uint8(lenet_pp, method):
    x = (_digits(2) * 255).to(torch.uint8)
    out = attribute(lenet_pp, x, method=method, **FAST.get(method, {}))
    assert out.shape == (2, 1, 28, 28) and out.dtype == torch.float32


def test_gradcam_deep_layer_is_upsampled(resnet_pp):
    out = attribute(resnet_pp, torch.rand(2, 3, 32, 32), method="gradcam", layer="layer3.0.conv1")  # 8x8 maps
    assert out.shape == (2, 1, 32, 32)


# ------------------------------------------------------------------------------------- target
def test_target_none_is_the_argmax(lenet_pp):
    x = _digits(6)
    with torch.no_grad():
        predicted = lenet_pp(x).argmax(1)
    assert predicted.unique().numel() > 1  # so a single shared target could not pass
    default = attribute(lenet_pp, x, method="saliency")
    assert torch.equal(default, attribute(lenet_pp, x, target=predicted, method="saliency"))
    assert torch.equal(default, attribute(lenet_pp, x, target=predicted.tolist(), method="saliency"))
    other = attribute(lenet_pp, x, target=(predicted + 1) % 10, method="saliency")
    assert not torch.allclose(default, other)


def test_int_target_applies_to_every_image(lenet_pp):
    x = _digits(3)
    assert torch.equal(attribute(lenet_pp, x, target=4, method="saliency"),
                       attribute(lenet_pp, x, target=torch.tensor([4, 4, 4]), method="saliency"))


# ------------------------------------------------------------------------------------- IG
@pytest.mark.parametrize("pushpull", [False, True])
def test_integrated_gradients_completeness(pushpull):
    """sum(IG) = f(x) - f(baseline) for the target logit, for the default (zeros) and a given baseline.

    The LeNet is first fitted for 30 steps to three labelled random images so the logit
    differences are several units (at random init they are ~0.01 and cancel). The network is
    piecewise linear, so along the path the gradient is piecewise constant and the quadrature
    error is O(kinks / n_steps): in float64 we measured a relative error <= 0.4 % at 50
    Gauss-Legendre steps and <= 0.04 % at 500 (two seeds, plain and PP). With 300 steps, a
    0.5 % tolerance is a margin over that, while the two baselines' logit differences differ
    by far more (checked below), so a wrong baseline or a gradient-only map cannot pass.
    """
    torch.manual_seed(3)
    model = build_model("lenet-a", pushpull=pushpull).double()
    x = torch.rand(3, 1, 28, 28, dtype=torch.float64)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(30):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2])).backward()
        optimizer.step()
    model.zero_grad(set_to_none=True)
    model.eval()
    baseline = torch.full_like(x, 0.5)
    with torch.no_grad():
        out, at_zero, at_half = model(x), model(torch.zeros_like(x)), model(baseline)
    target = out.argmax(1)
    pick = lambda logits: logits.gather(1, target[:, None]).squeeze(1)  # noqa: E731
    assert ((pick(at_zero) - pick(at_half)).abs() > 0.05 * (pick(out) - pick(at_zero)).abs()).all()
    for base, expected in ((None, pick(out) - pick(at_zero)), (baseline, pick(out) - pick(at_half))):
        extra = {} if base is None else {"baselines": base}  # default baseline: zeros
        attr = attribute(model, x, method="integrated_gradients", n_steps=300, **extra)
        assert attr.dtype == torch.float64
        total = attr.sum(dim=(1, 2, 3))
        assert torch.allclose(total, expected, rtol=5e-3, atol=0), (total, expected)


# ------------------------------------------------------------------------------------- Grad-CAM
def test_gradcam_on_the_pushpull_layer_matches_a_manual_gradcam(lenet_pp):
    name, layer = first_conv_layer(lenet_pp)
    assert name == "conv1" and isinstance(layer, PushPull2d)
    x = _digits(3)
    cam = attribute(lenet_pp, x, method="gradcam", layer="conv1")
    assert cam.shape == (3, 1, 28, 28) and (cam >= 0).all() and cam.sum() > 0
    assert torch.equal(cam, attribute(lenet_pp, x, method="gradcam", layer=lenet_pp.conv1))
    # Grad-CAM by hand: channel weights = spatial mean of d logit / d activation
    m = lenet_pp
    activation = m.conv1(m.normalize(x))
    h = m.pool2(m.relu2(m.conv2(m.pool1(m.relu1(activation)))))
    logits = m.fc3(m.relu4(m.fc2(m.relu3(m.fc1(m.flatten(h))))))
    target = logits.argmax(1)
    grads, = torch.autograd.grad(logits.gather(1, target[:, None]).sum(), activation)
    manual = torch.relu((grads.mean((2, 3), keepdim=True) * activation).sum(1, keepdim=True))
    assert torch.allclose(cam, manual.detach(), rtol=1e-4, atol=1e-7)
    last = attribute(lenet_pp, x, method="gradcam")  # the default: the last convolution
    assert gradcam_layer(lenet_pp)[0] == "conv2" and torch.equal(last, attribute(lenet_pp, x, method="gradcam",
                                                                                 layer="conv2"))
    assert not torch.allclose(cam, last)
    for p in m.parameters():
        p.grad = None


# ------------------------------------------------------------------------------------- SmoothGrad
def test_smoothgrad_is_seeded_and_leaves_the_global_rng_alone(lenet_pp):
    x = _digits(2)
    state = torch.random.get_rng_state()
    a = attribute(lenet_pp, x, method="smoothgrad", nt_samples=6)
    b = attribute(lenet_pp, x, method="smoothgrad", nt_samples=6)
    c = attribute(lenet_pp, x, method="smoothgrad", nt_samples=6, seed=7)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    assert not torch.allclose(a, attribute(lenet_pp, x, method="saliency"))  # the noise does something
    assert torch.equal(torch.random.get_rng_state(), state)


# ------------------------------------------------------------------------------------- side effects
@pytest.mark.parametrize("method", METHODS)
def test_no_side_effects(method):
    torch.manual_seed(0)
    model = build_model("resnet20", pushpull=True)  # in training mode: BN stats would move in train mode
    model.layer1.eval()  # a mixed mode must come back as it was
    before = {k: v.clone() for k, v in model.state_dict().items()}
    modes = {name: m.training for name, m in model.named_modules()}
    x = torch.rand(2, 3, 32, 32)
    x_before = x.clone()
    attribute(model, x, method=method, **FAST.get(method, {}))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in model.parameters())
    assert _hooks(model) == []
    assert {name: m.training for name, m in model.named_modules()} == modes
    assert torch.equal(x, x_before) and not x.requires_grad and x.grad is None


def test_the_eval_mode_is_what_is_explained():
    torch.manual_seed(0)
    model = build_model("lenet-a")
    model.fc1 = nn.Sequential(nn.Dropout(0.9), model.fc1)  # random in train mode
    model.train()
    x = _digits(2)
    assert torch.equal(attribute(model, x, method="saliency"), attribute(model, x, method="saliency"))
    assert model.training


# ------------------------------------------------------------------------------------- zeros
@pytest.mark.parametrize("connected", [True, False])
@pytest.mark.parametrize("method", METHODS)
def test_input_independent_model_gives_zero_attributions(method, connected):
    model = IgnoresInput(connected)
    if not connected and method in ("gradcam", "guided_gradcam"):  # the conv never runs: no Grad-CAM
        with pytest.raises(ValueError, match="layer 'conv' was not run"):
            attribute(model, _digits(2), method=method)
        assert _hooks(model) == []
        return
    out = attribute(model, _digits(2), method=method, **FAST.get(method, {}))
    assert out.shape == ((2, 1, 28, 28))
    assert torch.count_nonzero(out) == 0
    assert _hooks(model) == []


def test_all_zero_maps_do_not_crash_the_figure_and_are_labelled():
    fig = plot_attributions({"constant": IgnoresInput()}, {"clean": _digits(1)[0]},
                            methods=("integrated_gradients", "saliency", "gradcam"))
    titles = [ax.get_title() for ax in fig.axes]
    assert sum("all zero" in t for t in titles) == 3
    for image in [ax.images[0] for ax in fig.axes if ax.images][1:]:
        low, high = image.get_clim()
        assert low == 0 and high > low
    summary = attribution_summary(attribute(IgnoresInput(), _digits(2), method="saliency"))
    assert summary["all_zero"].all() and summary["total"].eq(0).all() and summary.iloc[:, 4].isna().all()


# ------------------------------------------------------------------------------------- figure
def _grid(fig, rows: int, columns: int):
    axes = fig.axes[: rows * columns]  # subplots come first (row-major), colourbars after
    return [axes[r * columns:(r + 1) * columns] for r in range(rows)]


def test_figure_shares_the_colour_scale_per_method_column(lenet_plain, lenet_pp):
    x = _digits(1, seed=5)[0]  # (C, H, W) float
    noisy = (x + 0.4 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    methods = ("integrated_gradients", "smoothgrad", "gradcam")
    fig = plot_attributions({"plain": lenet_plain, "PP": lenet_pp},
                            {"clean": (x * 255).to(torch.uint8),
                             "noisy": noisy[None]},  # uint8 (C,H,W), float (1,C,H,W)
                            methods=methods, method_kwargs=FAST, labels=[f"digit {i}" for i in range(10)])
    grid = _grid(fig, 4, 4)
    assert len(fig.axes) == 4 * 4 + len(methods)  # one colourbar per method column
    for j in range(1, 4):
        limits = {row[j].images[0].get_clim() for row in grid}
        assert len(limits) == 1, (methods[j - 1], limits)
        low, high = limits.pop()
        assert low == 0 and high > 0
    maxima = [max(float(row[j].images[0].get_array().max()) for row in grid) for j in range(1, 4)]
    assert len({round(m, 12) for m in maxima}) == 3  # the columns do have their own scales
    first_column = [row[0].get_title() for row in grid]
    for title, (model, condition) in zip(first_column, [("plain", "clean"), ("plain", "noisy"),
                                                         ("PP", "clean"), ("PP", "noisy")], strict=True):
        assert title.startswith(f"{model} | {condition}") and "pred digit" in title and "p=" in title
    assert "shared" in fig._suptitle.get_text()


def test_figure_three_channels_and_explicit_target(resnet_pp):
    x = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0))
    fig = plot_attributions({"ResNet-20-PP": resnet_pp}, {"clean": x, "dark": x * 0.3}, target=2,
                            methods=("saliency", "gradcam", "guided_gradcam"), sign="all")
    grid = _grid(fig, 2, 4)
    assert grid[0][0].images[0].get_array().shape == (32, 32, 3)
    for j in range(1, 4):
        limits = {row[j].images[0].get_clim() for row in grid}
        assert len(limits) == 1
        low, high = limits.pop()
        assert low == -high and high > 0  # signed: symmetric about zero
    assert "class 2" in fig._suptitle.get_text()


# ------------------------------------------------------------------------------------- reduction & summary
def test_to_heatmap_signs_and_reductions():
    a = torch.tensor([[[[1.0, -2.0]], [[-3.0, 1.0]]]])  # (1, 2, 1, 2)
    assert to_heatmap(a).tolist() == [[[2.0, 1.0]]]
    assert to_heatmap(a, "positive").tolist() == [[[0.0, 0.0]]]
    assert to_heatmap(a, "all").tolist() == [[[-2.0, -1.0]]]
    assert to_heatmap(a, "absolute", "max").tolist() == [[[3.0, 2.0]]]
    assert to_heatmap(a, "positive", "max").tolist() == [[[1.0, 1.0]]]
    assert to_heatmap(a, "all", "max").tolist() == [[[-3.0, -2.0]]]


def test_attribution_summary_numbers():
    spread = torch.ones(2, 3, 10, 10)
    peaked = torch.zeros(1, 1, 10, 10)
    peaked[0, 0, 0, 0] = -4.0
    table = attribution_summary({"spread": spread, "peaked": peaked}, top_percent=10)
    assert list(table["name"]) == ["spread", "spread", "peaked"]
    assert table["total"].tolist() == pytest.approx([300.0, 300.0, 4.0])
    assert table["signed_sum"].tolist() == pytest.approx([300.0, 300.0, -4.0])
    assert table["top10%_mass"].tolist() == pytest.approx([0.1, 0.1, 1.0])


# ------------------------------------------------------------------------------------- errors
def test_bad_inputs_give_clear_errors(lenet_pp):
    x = _digits(2)
    with pytest.raises(ValueError, match="unknown method 'gradients'.*integrated_gradients, saliency"):
        attribute(lenet_pp, x, method="gradients")
    with pytest.raises(ValueError, match="target 10 is out of range.*10 classes"):
        attribute(lenet_pp, x, target=10, method="saliency")
    with pytest.raises(ValueError, match="target -1 is out of range"):
        attribute(lenet_pp, x, target=[0, -1], method="saliency")
    with pytest.raises(ValueError, match="2 class indices"):
        attribute(lenet_pp, x, target=[1, 2, 3], method="saliency")
    with pytest.raises(ValueError, match=r"inputs has 3 channel\(s\).*expects in_channels=1"):
        attribute(lenet_pp, torch.rand(2, 3, 28, 28), method="saliency")
    with pytest.raises(ValueError, match=r"inputs must have shape \(N, C, H, W\).*unsqueeze"):
        attribute(lenet_pp, x[0], method="saliency")
    with pytest.raises(ValueError, match="layer='conv9' is not a module"):
        attribute(lenet_pp, x, method="gradcam", layer="conv9")
    with pytest.raises(ValueError, match="not a submodule"):
        attribute(lenet_pp, x, method="gradcam", layer=nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="return_convergence_delta"):
        attribute(lenet_pp, x, return_convergence_delta=True)
    with pytest.raises(ValueError, match="models must be a non-empty"):
        plot_attributions({}, {"clean": x[0]})
    with pytest.raises(ValueError, match="images must be a non-empty"):
        plot_attributions({"PP": lenet_pp}, {})
    with pytest.raises(ValueError, match=r"images\['rgb'\].*C = 1 or 3"):
        plot_attributions({"PP": lenet_pp}, {"rgb": torch.rand(2, 1, 28, 28)})
    with pytest.raises(ValueError, match=r"model 'PP'.*images\['rgb'\] has 3 channel\(s\)"):
        plot_attributions({"PP": lenet_pp}, {"rgb": torch.rand(3, 28, 28)}, methods=("saliency",))
    with pytest.raises(ValueError, match="unknown method 'ig'"):
        plot_attributions({"PP": lenet_pp}, {"clean": x[0]}, methods=("ig",))
    with pytest.raises(ValueError, match="sign must be one of"):
        to_heatmap(torch.zeros(1, 1, 2, 2), sign="negative")
    with pytest.raises(ValueError, match=r"attr must be a tensor of shape \(N, C, H, W\)"):
        to_heatmap(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="top_percent"):
        attribution_summary(torch.zeros(1, 1, 2, 2), top_percent=0)
    with pytest.raises(ValueError, match="non-empty"):
        attribution_summary({})


def test_gradcam_default_layer_is_the_last_convolution():
    from pushpull_viz.models import build_model

    assert gradcam_layer(build_model("resnet20", pushpull=True))[0] == "layer3.2.conv2"
    assert gradcam_layer(build_model("densenet40-12"))[0].startswith("features.denseblock3")
    assert gradcam_layer(PushPull2d(1, 2, 3))[0] == ""  # a layer alone: itself, not its inner .push conv


def test_attribution_overlap_by_hand():
    a = torch.zeros(3, 1, 10, 10)
    a[:, 0, 0, :] = 1.0  # top 10 % = the first row
    b = a.clone()
    b[1] = 0
    b[1, 0, 9, :] = 1.0  # image 1: the last row instead: disjoint
    b[2, 0, 0, 5:] = 0
    b[2, 0, 1, :5] = 1.0  # image 2: half the same
    overlap = attribution_overlap(a, b)
    assert overlap.tolist() == pytest.approx([1.0, 0.0, 5 / 15])
    rng = torch.Generator().manual_seed(0)
    random = attribution_overlap(torch.rand(200, 1, 28, 28, generator=rng), torch.rand(200, 1, 28, 28, generator=rng))
    assert random.mean().item() == pytest.approx(10 / 190, abs=0.01)  # independent maps: about 0.053
    with pytest.raises(ValueError, match="same images and size"):
        attribution_overlap(a, b[:2])
    with pytest.raises(ValueError, match="top_percent"):
        attribution_overlap(a, b, top_percent=0)
