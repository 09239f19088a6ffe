"""Interactive explorers: the pure frame functions, and the widgets built and driven headless."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from pushpull_viz.layers import PushPull2d  # noqa: E402
from pushpull_viz.models import build_model  # noqa: E402
from pushpull_viz.viz.widgets import (  # noqa: E402
    CorruptionFrames,
    PushPullFrames,
    corruption_explorer,
    corruption_frame,
    explorer_limits,
    pushpull_explorer,
    pushpull_frame,
)

pytest.importorskip("ipywidgets")


@pytest.fixture(autouse=True)
def _no_pyplot_figures():
    """The explorers' figures live outside pyplot: nothing to close, nothing leaked."""
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before
    plt.close("all")


@pytest.fixture
def mnist_layer() -> PushPull2d:
    torch.manual_seed(0)
    return PushPull2d(1, 6, 5)


@pytest.fixture
def digit() -> torch.Tensor:
    image = torch.zeros(1, 28, 28, dtype=torch.uint8)
    image[0, 6:22, 12:16] = 255  # a bar, "1"
    image[0, 6:9, 8:16] = 200
    return image


# ------------------------------------------------------------------------------------ pushpull_frame
def test_frame_shapes_mnist_and_cifar(mnist_layer, digit):
    frame = pushpull_frame(mnist_layer, digit, alpha=1.0, scale=2.0, noise_level=0.1)
    assert sorted(frame) == ["conv", "input", "output", "pull", "push"]
    assert frame["input"].shape == (28, 28)
    assert all(frame[k].shape == (6, 24, 24) and frame[k].dtype == np.float32 for k in ("push", "pull", "output",
                                                                                        "conv"))
    cifar = pushpull_frame(PushPull2d(3, 16, 3, padding=1), torch.rand(3, 32, 32), 1.0, 2.0, 0.01)
    assert cifar["input"].shape == (32, 32, 3) and cifar["output"].shape == (16, 32, 32)
    assert pushpull_frame(mnist_layer, torch.rand(28, 28), 1.0, 2.0, 0.0)["input"].shape == (28, 28)  # (H, W) accepted


def test_frame_matches_the_layer(mnist_layer, digit):
    x = digit[None].float() / 255
    frame = pushpull_frame(mnist_layer, digit, alpha=0.7, scale=1.5, noise_level=0.0)
    mnist_layer.alpha, mnist_layer.scale = 0.7, 1.5
    with torch.no_grad():
        np.testing.assert_allclose(frame["output"], mnist_layer(x)[0].numpy(), atol=1e-5)
        np.testing.assert_allclose(frame["conv"], mnist_layer.push(x)[0].numpy(), atol=1e-5)
    np.testing.assert_array_equal(frame["input"], x[0, 0].numpy())  # level 0: the clean image


def test_alpha_zero_gives_the_push_response(mnist_layer, digit):
    frame = pushpull_frame(mnist_layer, digit, alpha=0.0, scale=2.0, noise_level=0.2)
    np.testing.assert_array_equal(frame["output"], frame["push"])
    np.testing.assert_allclose(frame["push"], np.maximum(frame["conv"], 0), atol=1e-6)


def test_output_is_non_increasing_in_alpha_at_every_pixel(mnist_layer, digit):
    frames = PushPullFrames(mnist_layer, digit)
    outputs = [frames(alpha, 2.0, 0.1)["output"] for alpha in (0.0, 0.25, 0.5, 1.0, 2.0, 3.0)]
    for low, high in itertools.pairwise(outputs):
        assert (high <= low).all()
    assert (outputs[-1] < outputs[0]).any()  # and it does inhibit somewhere


def test_scale_one_pulls_with_the_push_kernel(mnist_layer, digit):
    frame = pushpull_frame(mnist_layer, digit, alpha=1.0, scale=1.0, noise_level=0.05)
    np.testing.assert_allclose(frame["pull"], np.maximum(-frame["conv"], 0), atol=1e-6)
    wide = pushpull_frame(mnist_layer, digit, alpha=1.0, scale=3.0, noise_level=0.05)
    assert not np.allclose(wide["pull"], frame["pull"])
    assert mnist_layer.scale == 2.0  # the layer's own h is left as it was


def test_noise_is_reproducible_per_seed(mnist_layer, digit):
    a = pushpull_frame(mnist_layer, digit, 1.0, 2.0, 0.1, seed=3)["input"]
    b = pushpull_frame(mnist_layer, digit, 1.0, 2.0, 0.1, seed=3)["input"]
    c = pushpull_frame(mnist_layer, digit, 1.0, 2.0, 0.1, seed=4)["input"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, digit[0].numpy() / 255)
    cifar = PushPullFrames(PushPull2d(3, 4, 3), torch.full((3, 16, 16), 0.5), corruption="gaussian_noise", seed=1)
    noisy = cifar(1.0, 2.0, 0.04)["input"]
    assert noisy.shape == (16, 16, 3) and 0 < np.abs(noisy - 0.5).mean() < 0.1


def test_frames_cache_what_does_not_change(mnist_layer, digit, monkeypatch):
    frames = PushPullFrames(mnist_layer, digit)
    calls = []
    original = mnist_layer.push_pull_responses
    monkeypatch.setattr(mnist_layer, "push_pull_responses", lambda *args: calls.append(1) or original(*args))
    frames(1.0, 2.0, 0.1)
    frames(0.3, 2.0, 0.1)  # alpha only: no convolution
    frames(2.5, 2.0, 0.1)
    assert len(calls) == 1
    frames(1.0, 2.5, 0.1)  # new h
    frames(1.0, 2.5, 0.2)  # new noise level
    assert len(calls) == 3
    assert frames.noisy(0.2) is frames.noisy(0.2)  # noise draws are cached per (level, seed)
    with torch.no_grad():
        mnist_layer.push.weight.mul_(2)  # new weights: recomputed
    frames(1.0, 2.5, 0.2)
    assert len(calls) == 4
    mnist_layer.push.weight.data.mul_(0.25)  # a change through .data (no version bump) is seen too
    frame = frames(1.0, 2.5, 0.2)
    assert len(calls) == 5
    np.testing.assert_allclose(frame["output"], PushPullFrames(mnist_layer, digit)(1.0, 2.5, 0.2)["output"])
    assert mnist_layer.scale == 2.0  # another h never changes the layer


def test_frame_of_a_model_uses_its_first_layer_and_normalisation(digit):
    torch.manual_seed(0)
    model = build_model("lenet-a", pushpull=True).eval()
    frame = pushpull_frame(model, digit, alpha=1.0, scale=2.0, noise_level=0.0)
    x = model.normalize(digit[None].float() / 255) if hasattr(model, "normalize") else digit[None].float() / 255
    layer = next(m for m in model.modules() if isinstance(m, PushPull2d))
    with torch.no_grad():
        push, pull = layer.push_pull_responses(x)
    np.testing.assert_allclose(frame["push"], push[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(frame["pull"], pull[0].numpy(), atol=1e-5)


def test_all_zero_image(mnist_layer):
    frame = pushpull_frame(mnist_layer, torch.zeros(1, 28, 28), 1.0, 2.0, 0.0)
    assert all(np.isfinite(v).all() for v in frame.values()) and not frame["output"].any()
    box = pushpull_explorer(mnist_layer, torch.zeros(1, 28, 28))
    box.explorer.update(alpha=2.0)
    assert box.explorer.images["push"].get_clim()[1] > 0


def test_frame_errors(mnist_layer, digit):
    with pytest.raises(ValueError, match=r"alpha \(inhibition strength\) must be a finite number >= 0, got -0.5"):
        pushpull_frame(mnist_layer, digit, -0.5, 2.0, 0.1)
    with pytest.raises(ValueError, match=r"scale \(h, pull/push kernel size ratio\) must be a finite number >= 1"):
        pushpull_frame(mnist_layer, digit, 1.0, 0.5, 0.1)
    with pytest.raises(ValueError, match="noise_level .* >= 0"):
        pushpull_frame(mnist_layer, digit, 1.0, 2.0, -0.1)
    with pytest.raises(ValueError, match=r"3 channel\(s\) .* in_channels=1"):
        pushpull_frame(mnist_layer, torch.rand(3, 28, 28), 1.0, 2.0, 0.1)
    with pytest.raises(ValueError, match=r"one image of shape \(C, H, W\)"):
        pushpull_frame(mnist_layer, torch.rand(2, 1, 28, 28), 1.0, 2.0, 0.1)
    with pytest.raises(ValueError, match="channels last"):
        pushpull_frame(PushPull2d(3, 4, 3), np.random.rand(32, 32, 3).astype(np.float32), 1.0, 2.0, 0.1)
    with pytest.raises(ValueError, match=r"\[0, 1\].*divide by 255"):
        pushpull_frame(mnist_layer, digit.float(), 1.0, 2.0, 0.1)
    with pytest.raises(ValueError, match="unknown corruption 'gausian_noise'"):
        pushpull_frame(mnist_layer, digit, 1.0, 2.0, 0.1, corruption="gausian_noise")
    with pytest.raises(ValueError, match="level is one number"):
        pushpull_frame(mnist_layer, digit, 1.0, 2.0, 0.1, corruption="defocus_blur")
    with pytest.raises(TypeError, match="PushPull2d"):
        pushpull_frame(torch.rand(3), digit, 1.0, 2.0, 0.1)
    with pytest.raises(ValueError, match="not a push-pull layer"):
        pushpull_frame(nn.Conv2d(1, 6, 5), digit, 1.0, 2.0, 0.1)


# ------------------------------------------------------------------------------------ corruption_frame
class _Prototype(nn.Module):
    """Scores = -distance to two prototypes (black, white): a tiny deterministic classifier."""

    def forward(self, x):
        mean = x.flatten(1).mean(1, keepdim=True)
        return torch.cat([-10 * mean, -10 * (1 - mean)], 1)


def test_corruption_frame():
    image = torch.full((3, 32, 32), 200, dtype=torch.uint8)
    models = {"proto": _Prototype(), "linear": nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))}
    frame = corruption_frame(models, image, "gaussian_noise", 5, seed=1)
    assert frame["image"].shape == (32, 32, 3) and frame["image"].dtype == np.float32
    assert frame["probabilities"]["proto"].shape == (2,) and frame["probabilities"]["linear"].shape == (10,)
    assert all(abs(float(p.sum()) - 1) < 1e-5 for p in frame["probabilities"].values())
    assert frame["prediction"]["proto"] == 1
    again = corruption_frame(models, image, "gaussian_noise", 5, seed=1)
    np.testing.assert_array_equal(frame["image"], again["image"])
    other = corruption_frame(models, image, "gaussian_noise", 5, seed=2)
    assert not np.array_equal(frame["image"], other["image"])
    clean = corruption_frame(models, image, "gaussian_noise", 0)
    np.testing.assert_allclose(clean["image"], 200 / 255)
    dark = corruption_frame(models, image, "brightness", 5)
    assert dark["image"].mean() != pytest.approx(200 / 255)


def test_corruption_frames_restore_the_model_mode_and_cache():
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(28 * 28, 10)).train()
    frames = CorruptionFrames({"m": model}, torch.rand(1, 28, 28))
    a = frames("mnist_gaussian_noise", 2)
    assert model.training and a is frames("mnist_gaussian_noise", 2)
    b = CorruptionFrames({"m": model}, torch.rand(1, 28, 28))("mnist_gaussian_noise", 2)
    assert b["probabilities"]["m"].shape == (10,)


def test_corruption_frame_errors():
    model = {"p": _Prototype()}
    with pytest.raises(ValueError, match=r"severity of 'fog' \(0: clean\) must be an integer in 0..5, got 9"):
        corruption_frame(model, torch.rand(3, 8, 8), "fog", 9)
    with pytest.raises(ValueError, match="unknown corruption 'foggy'"):
        corruption_frame(model, torch.rand(3, 8, 8), "foggy", 1)
    with pytest.raises(ValueError, match="non-empty"):
        corruption_frame({}, torch.rand(3, 8, 8), "fog", 1)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        corruption_frame(model, torch.rand(2, 8, 8), "fog", 1)


# ------------------------------------------------------------------------------------ explorers
def test_pushpull_explorer_redraws_in_place(mnist_layer, digit):
    import ipywidgets

    box = pushpull_explorer(mnist_layer, digit, channel=1)
    explorer = box.explorer
    assert isinstance(box, ipywidgets.VBox) and explorer.view in box.children
    figure, images, n_axes = explorer.figure, dict(explorer.images), len(explorer.figure.axes)
    first_png = bytes(explorer.view.value)
    assert first_png.startswith(b"\x89PNG") and explorer.redraws == 1
    before = {k: np.array(im.get_array()) for k, im in images.items()}

    explorer.update(alpha=0.0)
    after = np.array(images["output"].get_array())
    assert not np.array_equal(after, before["output"])
    np.testing.assert_allclose(after, explorer.frame["push"][1])  # alpha 0: output = push
    np.testing.assert_array_equal(np.array(images["push"].get_array()), before["push"])  # push does not move

    explorer.update(noise_level=0.3)
    assert not np.array_equal(np.array(images["input"].get_array()), before["input"])
    assert images["push"].get_clim() == images["pull"].get_clim()  # one colour scale for push and pull
    low, high = images["output"].get_clim()
    assert low == -high > -np.inf

    explorer.scale_slider.value = 3.0  # a slider move from the UI redraws by itself
    assert "15x15" in explorer.titles[2].get_text() and explorer.redraws == 4
    explorer.channel_slider.value = 4
    np.testing.assert_allclose(np.array(images["pull"].get_array()), explorer.frame["pull"][4])
    # the same figure, the same artists, a new picture
    assert explorer.figure is figure and len(figure.axes) == n_axes
    assert all(explorer.images[k] is images[k] for k in images)
    assert bytes(explorer.view.value) != first_png
    assert explorer.values == {"alpha": 0.0, "scale": 3.0, "noise_level": 0.3, "channel": 4, "lock_scale": True}


def test_locked_colour_scale_does_not_move_with_alpha(mnist_layer, digit):
    """The issue's case: unlocked, the output's colour bar went from +-0.29 at alpha 0 to +-1.58 at alpha 2,
    so moving alpha changed the scale instead of showing suppression. Locked, the scale stays."""
    explorer = pushpull_explorer(mnist_layer, digit, noise_level=0.1).explorer
    limits = []
    for alpha in (0.0, 1.0, 2.0, 3.0):
        explorer.update(alpha=alpha)
        limits.append(explorer.images["output"].get_clim())
    assert all(limit == limits[0] for limit in limits) and "fixed for alpha 0-3" in explorer.bar_labels[1].get_text()
    explorer.lock_box.value = False
    free = []
    for alpha in (0.0, 3.0):
        explorer.update(alpha=alpha)
        free.append(explorer.images["output"].get_clim()[1])
    assert free[1] > free[0] and "this alpha" in explorer.bar_labels[1].get_text()
    assert limits[0][1] >= free[1] * 0.999  # the locked scale covers the largest alpha


def test_explorer_limits_leave_out_the_border():
    push, pull = np.zeros((9, 9)), np.zeros((9, 9))
    push[4, 4], pull[0, :] = 1.0, 50.0  # a padding edge in the first row
    top, limit = explorer_limits(push, pull, push - pull, alpha_max=None, border=2)
    assert top == pytest.approx(np.quantile(np.abs(push[2:7, 2:7]), 0.995))
    assert limit == pytest.approx(top)


def test_pushpull_explorer_cifar_model_and_errors():
    torch.manual_seed(0)
    model = build_model("resnet20", pushpull=True)
    box = pushpull_explorer(model, torch.rand(3, 32, 32), corruption="gaussian_noise", noise_level=0.05)
    explorer = box.explorer
    assert explorer.images["input"].get_array().shape == (32, 32, 3)
    explorer.update(alpha=5.0)  # past the slider's end: the slider grows
    assert explorer.alpha_slider.value == 5.0
    with pytest.raises(ValueError, match="alpha"):
        explorer.update(alpha=-1)
    with pytest.raises(ValueError, match="scale"):
        explorer.update(scale=0.9)
    with pytest.raises(ValueError, match=r"channel must lie in 0..15"):
        explorer.update(channel=16)
    with pytest.raises(ValueError, match=r"channel must lie in 0..5"):
        pushpull_explorer(PushPull2d(1, 6, 5), torch.rand(28, 28), channel=6)
    assert explorer.values["alpha"] == 5.0  # a refused update leaves the sliders alone


def test_corruption_explorer_updates_image_and_bars():
    import ipywidgets

    torch.manual_seed(0)
    models = {"plain": nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10)), "proto": _Prototype()}
    with pytest.raises(ValueError, match="class_names has 3 names but the models give 10"):
        corruption_explorer({"plain": models["plain"]}, torch.rand(3, 32, 32), class_names=["a", "b", "c"])
    box = corruption_explorer({"plain": models["plain"]}, torch.rand(3, 32, 32), label=2, severity=0,
                              class_names=[f"class {i}" for i in range(10)], top_k=4)
    explorer = box.explorer
    assert isinstance(box, ipywidgets.VBox) and explorer.corruption_dropdown.options[0] == "gaussian_noise"
    assert len(explorer.corruption_dropdown.options) == 19
    image = explorer.image
    before = np.array(image.get_array())
    widths = [bar.get_width() for bar in explorer.bars[0]]
    assert len(widths) == 4 and widths == sorted(widths, reverse=True)
    explorer.update(corruption="impulse_noise", severity=5)
    assert explorer.image is image and not np.array_equal(np.array(image.get_array()), before)
    assert [bar.get_width() for bar in explorer.bars[0]] != widths
    assert "severity 5" in explorer.image_title.get_text() and "class 2" in explorer.image_title.get_text()
    labels = [t.get_text() for t in explorer.bar_axes[0].get_yticklabels()]
    probabilities = explorer.frame["probabilities"]["plain"]
    assert labels[0] == f"class {int(probabilities.argmax())}"
    assert explorer.bars[0][0].get_width() == pytest.approx(100 * probabilities.max())
    green = [bar for bar in explorer.bars[0] if bar.get_facecolor()[:3] == matplotlib.colors.to_rgb("tab:green")]
    assert len(green) == ("class 2" in labels)
    explorer.corruption_dropdown.value = "brightness"  # from the UI
    assert explorer.values["corruption"] == "brightness" and explorer.frame["corruption"] == "brightness"
    with pytest.raises(ValueError, match="not in the suite"):
        explorer.update(corruption="mnist_gaussian_noise")
    with pytest.raises(ValueError, match=r"severity must be an integer in 0..5"):
        explorer.update(severity=6)


def test_corruption_explorer_grey_suite_and_several_models(digit):
    models = {"proto": _Prototype(), "linear": nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 2))}
    box = corruption_explorer(models, digit, label=0, corruption="mnist_gaussian_noise", severity=7)
    explorer = box.explorer
    assert explorer.severity_slider.max == 7 and len(explorer.bar_axes) == 2
    assert "mnistc_fog" in explorer.corruption_dropdown.options
    assert explorer.bar_titles[0].get_text().endswith(("(right)", "(wrong)"))
    explorer.update(corruption="mnistc_fog")  # one severity only: the slider shrinks
    assert explorer.severity_slider.max == 1 and explorer.values["severity"] == 1
    with pytest.raises(ValueError, match=r"label must be a class index in 0..1"):
        corruption_explorer(models, digit, label=2)
    with pytest.raises(ValueError, match="corruption 'fog' is not in the suite"):
        corruption_explorer(models, digit, corruption="fog")


def test_partial_redraw_gives_the_same_picture_as_a_full_one(mnist_layer, digit):
    """The explorer redraws only the maps and titles while the colour bars stay; the pixels must be
    those of a full draw."""
    explorer = pushpull_explorer(mnist_layer, digit, noise_level=0.1).explorer
    for alpha, noise in ((0.5, 0.1), (2.5, 0.1), (2.5, 0.11), (1.0, 0.3)):
        explorer.update(alpha=alpha, noise_level=noise)
        partial = np.array(explorer.figure.canvas.buffer_rgba()).copy()
        explorer.figure.canvas.draw()
        np.testing.assert_array_equal(partial, np.array(explorer.figure.canvas.buffer_rgba()))
    assert explorer._background is not None


def test_nice_ceiling():
    from pushpull_viz.viz.widgets import nice_ceiling

    assert [nice_ceiling(v) for v in (0.29, 1.0, 1.01, 7.9, 8.1, 0.0)] == [0.3, 1.0, 1.25, 8.0, 10.0, 1e-6]
