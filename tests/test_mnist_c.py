"""The MNIST-C suite (pushpull_viz.corruptions.mnist_c): registry, corrupt() contract, and per
corruption a property that fails if the operation is wrong, checked against scikit-image where
the original called it and against a numpy transcription of the original's line drawing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pushpull_viz.corruptions import (
    MNISTC_ALL,
    MNISTC_CORRUPTIONS,
    cifar_blur,
    corrupt,
    corruption_info,
    list_corruptions,
    mnist_c,
)
from pushpull_viz.data import load_dataset

NAMES = [f"mnistc_{name}" for name in MNISTC_ALL]
DETERMINISTIC = {"mnistc_scale", "mnistc_brightness", "mnistc_stripe", "mnistc_canny_edges"}
#: Their random draws do not depend on the channel count, so grey RGB gives the grey result.
CHANNEL_FREE = set(NAMES) - {"mnistc_shot_noise", "mnistc_impulse_noise"}


def seeded(seed: int = 0, device="cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


@pytest.fixture(scope="module")
def digits(data_root) -> torch.Tensor:
    """64 MNIST test digits, uint8 (64, 1, 28, 28)."""
    return load_dataset("mnist", "test", data_root).images[:64]


def centre_of_mass(x: torch.Tensor) -> torch.Tensor:
    """(N, 2) (row, column) centres of mass of (N, 1, H, W) images."""
    h, w = x.shape[-2:]
    mass = x.sum((1, 2, 3))
    rows = (x.sum((1, 3)) * torch.arange(h, dtype=x.dtype)).sum(1) / mass
    cols = (x.sum((1, 2)) * torch.arange(w, dtype=x.dtype)).sum(1) / mass
    return torch.stack([rows, cols], 1)


def orientation(x: torch.Tensor) -> torch.Tensor:
    """(N,) angle (radians, image x right / y down) of the main axis of each image's mass."""
    h, w = x.shape[-2:]
    r, c = torch.meshgrid(torch.arange(h, dtype=x.dtype), torch.arange(w, dtype=x.dtype), indexing="ij")
    m = x[:, 0]
    mass = m.sum((1, 2))
    mr, mc = (m * r).sum((1, 2)) / mass, (m * c).sum((1, 2)) / mass
    dr, dc = r - mr[:, None, None], c - mc[:, None, None]
    crr, ccc, crc = ((m * dr * dr).sum((1, 2)), (m * dc * dc).sum((1, 2)), (m * dr * dc).sum((1, 2)))
    return 0.5 * torch.atan2(2 * crc, ccc - crr)


def high_frequency(x: torch.Tensor) -> float:
    """Mean squared Laplacian: the energy of the finest detail."""
    lap = (4 * x[..., 1:-1, 1:-1] - x[..., :-2, 1:-1] - x[..., 2:, 1:-1] - x[..., 1:-1, :-2] - x[..., 1:-1, 2:])
    return float((lap**2).mean())


# ------------------------------------------------------------------------------------------------- registry


def test_registry_lists_the_15_with_one_severity():
    assert list_corruptions("mnist-c") == NAMES == list(MNISTC_CORRUPTIONS)
    assert len(NAMES) == 15
    for name in NAMES:
        info = corruption_info(name)
        assert info.suite == "mnist-c" and info.severities == (1,)
        assert info.levels[0] == mnist_c.MNISTC_PARAMETERS[name.removeprefix("mnistc_")]
        assert info.note and info.parameter and not info.truncate
    assert corruption_info("mnistc_shot_noise").levels == (3.0,)
    assert corruption_info("mnistc_fog").levels == ((3.0, 1.4, 256),)
    assert corruption_info("mnistc_rotate").levels == (0.4,)
    with pytest.raises(ValueError, match="1..1"):
        corrupt(torch.zeros(1, 1, 28, 28), "mnistc_fog", 2)


# ------------------------------------------------------------------------------------------------- contract


@pytest.mark.parametrize("name", NAMES)
def test_contract(name, device):
    x = torch.rand(4, 1, 28, 28, device=device)
    a = corrupt(x, name, 1, seeded(0, device))
    b = corrupt(x, name, 1, seeded(0, device))
    c = corrupt(x, name, 1, seeded(1, device))
    assert a.shape == x.shape and a.dtype == x.dtype and a.device == x.device
    assert a.equal(b), "the same seed must give the same corruption"
    assert 0 <= a.min() and a.max() <= 1
    assert a.equal(c) if name in DETERMINISTIC else not a.equal(c)
    u = (x * 255).round().to(torch.uint8)
    out = corrupt(u, name, 1, seeded(0, device))
    assert out.dtype == torch.uint8 and out.shape == u.shape and out.device == u.device
    assert (out.float() - corrupt(u.float() / 255, name, 1, seeded(0, device)) * 255).abs().max() <= 0.5 + 1e-3
    assert corrupt(x.double(), name, 1, seeded(0, device)).dtype == torch.float64
    other_size = corrupt(torch.rand(2, 1, 20, 24, device=device), name, 1, seeded(0, device))
    assert other_size.shape == (2, 1, 20, 24)


@pytest.mark.parametrize("name", NAMES)
def test_three_channels(name):
    x = torch.rand(3, 1, 28, 28)
    grey = corrupt(x, name, 1, seeded(0))
    rgb = corrupt(x.expand(-1, 3, -1, -1).contiguous(), name, 1, seeded(0))
    assert rgb.shape == (3, 3, 28, 28)
    if name in CHANNEL_FREE:
        assert torch.allclose(rgb, grey.expand(-1, 3, -1, -1), atol=1e-5)
    function = corruption_info(name).function
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\) MNIST-like images \(or 3 channels\), got shape \(1, 2"):
        function(torch.rand(1, 2, 28, 28), corruption_info(name).levels[0], None)


# ------------------------------------------------------------------------------------------------- noise


def test_shot_noise_is_poisson_with_3_photons():
    x = torch.full((200, 1, 28, 28), 0.2)
    x[:, :, :4] = 0
    y = corrupt(x, "mnistc_shot_noise", 1, seeded())
    assert (y[:, :, :4] == 0).all()  # Poisson(0) = 0: black stays black
    lit = y[:, :, 4:]
    assert torch.allclose(lit * 3, (lit * 3).round(), atol=1e-5)  # multiples of 1/3
    assert lit.mean().item() == pytest.approx(0.2, abs=0.005)
    assert lit.var().item() == pytest.approx(0.2 * 3 / 9, rel=0.05)  # Var(Poisson(0.6)) / 9


def test_impulse_noise_flips_17_percent():
    x = torch.full((100, 1, 28, 28), 0.5)
    y = corrupt(x, "mnistc_impulse_noise", 1, seeded())
    assert ((y == 0) | (y == 1) | (y == 0.5)).all()
    assert (y != 0.5).float().mean().item() == pytest.approx(0.17, abs=0.005)
    assert (y == 1).float().mean().item() == pytest.approx(0.085, abs=0.005)


# ------------------------------------------------------------------------------------------------- blur


def test_glass_blur_smooths_along_rows_only_as_scikit_image_did():
    from skimage.filters import gaussian

    image = np.random.default_rng(0).random((28, 28))
    ours = mnist_c._row_gaussian(torch.from_numpy(image)[None, None], 0.7)[0, 0].numpy()
    # corruptions.py calls gaussian(x, 0.7, multichannel=True) on a 2-D array: channel_axis=-1 today
    np.testing.assert_allclose(ours, gaussian(image, sigma=0.7, channel_axis=-1), atol=1e-12)
    assert not np.allclose(ours, gaussian(image, sigma=0.7), atol=1e-3)


def test_glass_blur_swaps_permute_pixels_up_and_left():
    y = torch.rand(50, 1, 28, 28)
    out = mnist_c.local_swaps(y, 1, 2, seeded())
    assert out.flatten(1).sort(1).values.equal(y.flatten(1).sort(1).values)  # a permutation of each image
    assert out[..., 0, :].equal(y[..., 0, :]) and out[..., :, 0].equal(y[..., :, 0])  # never reached
    moved = (out != y).float().mean().item()
    assert 0.4 < moved < 0.8  # each visit swaps with prob. 1/2 x 3/4 (offset (0, 0) half the time per axis)
    assert not out.equal(mnist_c.local_swaps(y, 1, 2, seeded(1)))


def test_glass_blur_keeps_the_mean_and_lowers_detail(digits):
    x = digits.float() / 255
    y = corrupt(x, "mnistc_glass_blur", 1, seeded())
    assert y.mean().item() == pytest.approx(x.mean().item(), rel=0.03)
    assert high_frequency(y) < 0.97 * high_frequency(x)
    assert (y - x).abs().mean().item() > 0.03


def _glass_blur_script(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """numpy transcription of the script's glass_blur (severity 1) on one 2-D image in [0, 1]."""
    from skimage.filters import gaussian

    y = np.uint8(gaussian(image, sigma=0.7, channel_axis=-1) * 255)  # multichannel=True on 2-D
    for _ in range(2):
        for h in range(27, 1, -1):
            for w in range(27, 1, -1):
                if rng.random() < 0.5:
                    dx, dy = rng.integers(-1, 1, size=2)
                    y[h, w], y[h + dy, w + dx] = y[h + dy, w + dx], y[h, w]
    return np.clip(gaussian(y / 255.0, sigma=0.7, channel_axis=-1), 0, 1)


def test_glass_blur_statistics_match_the_script(digits):
    x = digits.double() / 255
    rng = np.random.default_rng(0)
    script = np.stack([_glass_blur_script(image[0].numpy(), rng) for image in x])
    ours = corrupt(x, "mnistc_glass_blur", 1, seeded())[:, 0].numpy()
    clean = x[:, 0].numpy()
    for statistic in (lambda v: np.abs(v - clean).mean(), lambda v: (np.diff(v, axis=2) ** 2).mean(),
                      lambda v: (np.diff(v, axis=1) ** 2).mean()):
        assert statistic(ours) == pytest.approx(statistic(script), rel=0.1)  # isotropic blur: -50% or more


def test_motion_blur_is_the_imagemagick_port_with_mnist_c_parameters(digits):
    x = digits.float() / 255
    y = corrupt(x, "mnistc_motion_blur", 1, seeded())
    assert y.equal(cifar_blur.motion_blur(x, (10, 3), seeded()).clamp(0, 1))
    assert y.mean().item() == pytest.approx(x.mean().item(), rel=0.03)
    assert high_frequency(y) < 0.4 * high_frequency(x)


# ------------------------------------------------------------------------------------------------- affine


def _skimage_warp(image: np.ndarray, a1, a2, b1, b2, a3=None, b3=None) -> np.ndarray:
    """The original's recipe: warp with an AffineTransform keeping (13.5, 13.5) fixed."""
    from skimage import transform

    a3 = 13.5 * (1 - a1 - a2) if a3 is None else a3
    b3 = 13.5 * (1 - b1 - b2) if b3 is None else b3
    matrix = np.array([[a1, a2, a3], [b1, b2, b3], [0.0, 0.0, 1.0]])
    return transform.warp(image, inverse_map=transform.AffineTransform(matrix=matrix))


# the matrices of scikit-image <= 0.18 AffineTransform(shear=s) / (rotation=r) / (scale=s) / (translation=t)
AFFINE_CANDIDATES = {
    "mnistc_shear": [(1, -math.sin(s), 0, math.cos(s)) for s in (0.4, -0.4)],
    "mnistc_rotate": [(math.cos(r), -math.sin(r), math.sin(r), math.cos(r)) for r in (0.4, -0.4)],
    "mnistc_scale": [(1 / 0.7, 0, 0, 1 / 0.7)],
    "mnistc_translate": [(1, 0, 0, 1, dx, dy) for dx in (3, -3) for dy in (3, -3)],
}


@pytest.mark.parametrize("name", sorted(AFFINE_CANDIDATES))
def test_affine_matches_scikit_image_warp(name, digits):
    x = digits[:24].double() / 255
    y = corrupt(x, name, 1, seeded()).numpy()[:, 0]
    used = set()
    for i in range(len(x)):
        errors = [np.abs(_skimage_warp(x[i, 0].numpy(), *c) - y[i]).max() for c in AFFINE_CANDIDATES[name]]
        assert min(errors) < 1e-9, f"image {i} matches none of the original's transforms"
        used.add(int(np.argmin(errors)))
    assert len(used) == len(AFFINE_CANDIDATES[name])  # every random sign choice occurs


def test_rotate_keeps_a_centred_disc_and_turns_a_bar_by_0_4_rad():
    r, c = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    blob = torch.exp(-((r - 13.5) ** 2 + (c - 13.5) ** 2) / (2 * 3.0**2)).expand(8, 1, 28, 28)
    kept = corrupt(blob, "mnistc_rotate", 1, seeded())
    assert torch.allclose(kept, blob, atol=0.025)  # bilinear resampling error only
    assert torch.allclose(centre_of_mass(kept), torch.full((8, 2), 13.5), atol=1e-3)  # about the centre
    bar = ((r - 13.5).abs() <= 1.5) & ((c - 13.5).abs() <= 9)
    bar = bar.float().expand(32, 1, 28, 28)
    turned = corrupt(bar, "mnistc_rotate", 1, seeded())
    change = orientation(turned.double()) - orientation(bar.double())
    assert torch.allclose(change.abs(), torch.full_like(change, 0.4), atol=0.02)
    assert (change > 0).any() and (change < 0).any()


def test_shear_slants_a_vertical_bar_by_sin_0_4():
    bar = torch.zeros(16, 1, 28, 28)
    bar[..., 4:24, 13:15] = 1
    y = corrupt(bar, "mnistc_shear", 1, seeded())
    rows = torch.arange(8, 20)  # away from the ends of the bar
    cols = (y[:, 0, rows] * torch.arange(28.0)).sum(-1) / y[:, 0, rows].sum(-1)  # (16, 12)
    dr = rows - rows.float().mean()
    slope = ((cols - cols.mean(1, keepdim=True)) * dr).sum(1) / (dr**2).sum()  # columns per row
    assert torch.allclose(slope.abs(), torch.full_like(slope, math.sin(0.4)), atol=0.01)
    assert (slope > 0).any() and (slope < 0).any()


def test_scale_shrinks_the_digits_by_0_7(digits):
    x = digits.double() / 255
    y = corrupt(x, "mnistc_scale", 1, seeded())
    assert (y.sum((1, 2, 3)) / x.sum((1, 2, 3))).mean().item() == pytest.approx(0.49, abs=0.01)
    centre = torch.tensor([13.5, 13.5], dtype=torch.float64)
    shrink = (centre_of_mass(y) - centre).norm(dim=1) / (centre_of_mass(x) - centre).norm(dim=1)
    assert shrink.median().item() == pytest.approx(0.7, abs=0.02)

    def width(t):  # standard deviation of the ink along the columns
        offset = torch.arange(28.0, dtype=t.dtype) - centre_of_mass(t)[:, 1, None, None, None]
        return ((t * offset**2).sum((1, 2, 3)) / t.sum((1, 2, 3))).sqrt()

    assert (width(y) / width(x)).mean().item() == pytest.approx(0.7, abs=0.02)


def test_translate_moves_the_centre_of_mass_by_3_pixels(digits):
    x = digits.double() / 255
    keep = (x[..., :3, :].sum((1, 2, 3)) == 0) & (x[..., -3:, :].sum((1, 2, 3)) == 0) \
        & (x[..., :3].sum((1, 2, 3)) == 0) & (x[..., -3:].sum((1, 2, 3)) == 0)
    x = x[keep]  # digits that stay whole
    y = corrupt(x, "mnistc_translate", 1, seeded())
    moved = centre_of_mass(y) - centre_of_mass(x)
    assert torch.allclose(moved.abs(), torch.full_like(moved, 3.0), atol=1e-5)
    assert len({tuple(v) for v in moved.sign().tolist()}) == 4
    assert torch.allclose(y.sum((1, 2, 3)), x.sum((1, 2, 3)), atol=1e-4)


# ------------------------------------------------------------------------------------------------- digital


def test_brightness_matches_the_hsv_round_trip(digits):
    from skimage import color

    x = digits[:8].double() / 255
    y = corrupt(x, "mnistc_brightness", 1, seeded())
    for i in range(len(x)):  # the original: gray2rgb, rgb2hsv, V + 0.5, hsv2rgb, rgb2gray
        hsv = color.rgb2hsv(color.gray2rgb(x[i, 0].numpy()))
        hsv[:, :, 2] = np.clip(hsv[:, :, 2] + 0.5, 0, 1)
        np.testing.assert_allclose(y[i, 0].numpy(), color.rgb2gray(color.hsv2rgb(hsv)), atol=1e-12)
    assert (y.mean() - x.mean()).item() == pytest.approx(0.5 - (x - 0.5).clamp(min=0).mean().item(), abs=1e-9)


def test_stripe_inverts_the_outer_quarters(digits):
    x = digits.float() / 255
    y = corrupt(x, "mnistc_stripe", 1)
    assert y[..., :7].equal(1 - x[..., :7]) and y[..., 21:].equal(1 - x[..., 21:])
    assert y[..., 7:21].equal(x[..., 7:21])
    assert torch.allclose(corrupt(y, "mnistc_stripe", 1), x, atol=1e-6)


# ------------------------------------------------------------------------------------------------- weather


def test_fog_adds_a_low_frequency_plasma_layer(digits):
    x = digits.double() / 255
    y = corrupt(x, "mnistc_fog", 1, seeded())
    brightest = x.amax((1, 2, 3), keepdim=True)
    plasma = (y * (brightest + 3) / brightest - x) / 3  # undo (x + 3 p) * max / (max + 3)
    assert plasma.min() >= -1e-9 and plasma.max() <= 1 + 1e-9
    # a 28x28 corner of a 256x256 map spans only part of [0, 1] (a 32x32 map, CIFAR's, nearly all of it)
    spans = plasma.amax((1, 2, 3)) - plasma.amin((1, 2, 3))
    assert 0.1 < spans.mean().item() < 0.6
    assert 0.25 < (y - x).abs().mean().item() < 0.5  # about 0.75 * E[p] on the black background
    assert not y.equal(corrupt(x, "mnistc_fog", 1, seeded(1)))


def test_spatter_is_grey_mud(digits):
    x = torch.zeros(64, 1, 28, 28)
    y = corrupt(x, "mnistc_spatter", 1, seeded())
    mud = y[y > 0]
    assert mud.min() >= 0.8 * 63 / 255 - 1e-6 and mud.max() <= 63 / 255 + 1e-6
    assert 0.05 < (y > 0).float().mean().item() < 0.25
    white = corrupt(torch.ones(64, 1, 28, 28), "mnistc_spatter", 1, seeded())
    assert torch.allclose(1 - white, (1 - 63 / 255) * (y / (63 / 255)), atol=1e-5)  # same mask, darkens white
    d = digits.float() / 255
    changed = corrupt(d, "mnistc_spatter", 1, seeded())
    assert 0.01 < (changed - d).abs().mean().item() < 0.1


# ------------------------------------------------------------------------------------------------- lines


def _segment(c0, r0, c1, r1, n=28):
    """numpy transcription of the original's line_from_points (28x28)."""
    if c1 == c0:
        return np.zeros((n, n))
    cols, rows = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float), sparse=True)
    distance = np.clip(np.abs(rows - ((r1 - r0) / (c1 - c0) * (cols - c0) + r0)), 0, 2.3 - 1e-10)
    out = np.clip(np.log(1 - distance / 2.3) + 1, 0, 1)
    out[:, :int(np.floor(c0))] = 0
    out[:, int(np.ceil(c1)):] = 0
    return out


def _dotted(r0, r1):
    out = _segment(0, r0, 27, r1)
    for start in range(0, 28, 4):
        out[:, start:start + 2] = 0
    return out


def _zigzag(r0, r1, a=2.0, b=2.0):
    theta = np.arctan((r1 - r0) / 23)
    d = 23 / np.cos(theta)
    points = [(0.0, 0.0)] + [((2 * i + 1) * a, (-1) ** i * b) for i in range(int((d - a) // (2 * a)) + 1)]
    whole = 2 * a * (d // (2 * a))
    if d != whole:
        points.append((d, points[-1][1] / (2 * (d - whole))))
    cs, rs = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) @ np.array(points).T
    cs, rs = cs + 2, rs + r0
    return sum(_segment(cs[i - 1], rs[i - 1], cs[i], rs[i]) for i in range(1, len(cs)))


def test_dotted_line_mask_matches_the_original_for_every_row_pair():
    pairs = torch.tensor([(r0, r1) for r0 in range(27) for r1 in range(27)])
    ours = mnist_c.dotted_line_mask(pairs[:, 0], pairs[:, 1], 28, 28, 2).numpy()
    for k, (r0, r1) in enumerate(pairs.tolist()):
        np.testing.assert_allclose(ours[k], _dotted(r0, r1), atol=1e-12)


def test_zigzag_mask_matches_the_original_for_every_row_pair():
    pairs = torch.tensor([(r0, r0 + k) for r0 in range(27) for k in range(-5, 5)])
    ours = mnist_c.zigzag_mask(pairs[:, 0], pairs[:, 1], 28, 28, 2.0, 2.0).numpy()
    for k, (r0, r1) in enumerate(pairs.tolist()):
        np.testing.assert_allclose(ours[k], _zigzag(r0, r1), atol=1e-12)


def test_lines_add_the_expected_ink():
    x = torch.zeros(400, 1, 28, 28)
    dotted = corrupt(x, "mnistc_dotted_line", 1, seeded())
    assert dotted[..., :, 0::4].eq(0).all() and dotted[..., :, 1::4].eq(0).all() and dotted[..., 27].eq(0).all()
    ink = dotted.sum((1, 2, 3))
    # 13 lit columns, each about the profile's area across a near-horizontal line (~1.76 for slope 0)
    assert 13 * 1.2 < ink.mean().item() < 13 * 2.2
    lit_rows = dotted.sum((1, 3)).argmax(1)
    assert lit_rows.min() >= 0 and lit_rows.max() <= 26 and len(set(lit_rows.tolist())) > 20
    zig = corrupt(x, "mnistc_zigzag", 1, seeded())
    assert zig[..., :2].eq(0).all() and zig[..., 27].eq(0).all()
    assert 20 < zig.sum((1, 2, 3)).mean().item() < 50
    digits_like = torch.zeros(8, 1, 28, 28)
    digits_like[..., 6:22, 12:16] = 1
    added = corrupt(digits_like, "mnistc_zigzag", 1, seeded())
    assert (added >= digits_like).all()  # lines only add ink


# ------------------------------------------------------------------------------------------------- edges


def test_canny_edges_match_scikit_image_exactly(digits):
    from skimage import feature

    y = corrupt(digits, "mnistc_canny_edges", 1)
    assert ((y == 0) | (y == 255)).all()
    for i in range(len(digits)):
        expected = feature.canny(digits[i, 0].numpy() / 255.0)
        np.testing.assert_array_equal(y[i, 0].numpy() == 255, expected)


def test_canny_edges_outline_a_square():
    from skimage import feature

    square = torch.zeros(1, 1, 28, 28)
    square[..., 8:20, 8:20] = 1
    edges = corrupt(square, "mnistc_canny_edges", 1)[0, 0]
    assert ((edges == 0) | (edges == 1)).all()
    r, c = torch.nonzero(edges, as_tuple=True)
    inner = torch.minimum(torch.minimum(r - 8, 19 - r), torch.minimum(c - 8, 19 - c))
    assert inner.abs().max() <= 1  # every edge pixel within a pixel of the square's boundary
    assert edges.sum() >= 40 and edges[10:18, 10:18].sum() == 0
    np.testing.assert_array_equal(edges.numpy() > 0, feature.canny(square[0, 0].double().numpy()))
