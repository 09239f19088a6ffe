"""The batched filters behind the corruptions, each against the library call it stands in for
(scipy, OpenCV) on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from pushpull_viz.corruptions import filters

cv2 = pytest.importorskip("cv2")


@pytest.mark.parametrize("mode,scipy_mode", [("nearest", "nearest"), ("symmetric", "reflect"), ("mirror", "mirror")])
@pytest.mark.parametrize("sigma,truncate", [(0.4, 4.0), (1.0, 4.0), (6.4,
                                                                     3.0)])  # 6.4: kernel longer than half the image
def test_gaussian_filter_is_scipys(mode, scipy_mode, sigma, truncate, device):
    x = torch.rand(2, 3, 32, 24, dtype=torch.float64, device=device)
    ours = filters.gaussian_filter(x, sigma, truncate, mode).cpu().numpy()
    reference = ndimage.gaussian_filter(x.cpu().numpy(), (0, 0, sigma, sigma), truncate=truncate, mode=scipy_mode)
    np.testing.assert_allclose(ours, reference, atol=1e-12)
    assert filters.gaussian_filter(x, 0.0) is x


def test_pad_indices_and_errors():
    assert filters.pad_indices(4, 3, "nearest").tolist() == [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]
    assert filters.pad_indices(4, 3, "symmetric").tolist() == [2, 1, 0, 0, 1, 2, 3, 3, 2, 1]
    assert filters.pad_indices(4, 3, "mirror").tolist() == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]
    with pytest.raises(ValueError, match="mode must be"):
        filters.pad_indices(4, 1, "wrap")


def test_box_blur_is_opencvs():
    x = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    ours = filters.box_blur3(torch.from_numpy(x)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(ours, cv2.blur(x, (3, 3)), atol=1e-5)


def test_clipped_zoom_is_scipys_zoom():
    x = np.random.default_rng(0).random((32, 32))
    for factor in (1.0, 1.03, 1.25, 1.75, 2.25):
        ch = int(np.ceil(32 / factor))
        top = (32 - ch) // 2
        zoomed = ndimage.zoom(x[top:top + ch, top:top + ch], factor, order=1)
        trim = (zoomed.shape[0] - 32) // 2
        ours = filters.clipped_zoom(torch.from_numpy(x)[None, None], factor)[0, 0].numpy()
        np.testing.assert_allclose(ours, zoomed[trim:trim + 32, trim:trim + 32], atol=1e-12)


def _blobs(n: int, seed: int) -> np.ndarray:
    """8-bit images like spatter's liquid layer: smooth blobs on zero."""
    rng = np.random.default_rng(seed)
    layer = ndimage.gaussian_filter(rng.normal(0.65, 0.3, (n, 32, 32)), (0, 1, 1), mode="nearest")
    layer[layer < 0.69] = 0
    return (np.clip(layer, 0, 1) * 255).astype(np.uint8)


def test_canny_is_opencvs():
    images = _blobs(40, 0)
    ours = filters.canny(torch.from_numpy(images).double()[:, None], 50, 150)[:, 0].numpy()
    reference = np.stack([cv2.Canny(image, 50, 150) > 0 for image in images])
    assert reference.sum() > 1000  # the test images do have edges
    np.testing.assert_array_equal(ours.astype(bool), reference)  # measured: identical on 500 images too


def test_distance_to_edges_is_the_euclidean_distance_transform():
    edges = np.random.default_rng(1).random((3, 32, 32)) < 0.01
    edges[2] = False  # no edge at all: infinite distance
    ours = filters.distance_to_edges(torch.from_numpy(edges)[:, None].float())[:, 0].numpy()
    for image, distance in zip(edges[:2], ours[:2], strict=True):
        np.testing.assert_allclose(distance, ndimage.distance_transform_edt(~image), atol=1e-5)
    assert np.isinf(ours[2]).all()


def test_equalize_hist_is_opencvs():
    images = np.random.default_rng(2).integers(0, 21, (5, 32, 32)).astype(np.uint8)
    images[3] = 7  # one grey level: unchanged
    ours = filters.equalize_hist(torch.from_numpy(images).float()[:, None])[:, 0].numpy()
    reference = np.stack([cv2.equalizeHist(image) for image in images])
    np.testing.assert_array_equal(ours, reference)


def test_motion_blur_line_kernel():
    x = torch.zeros(2, 1, 9, 9)
    x[:, :, 4, 4] = 1
    out = filters.motion_blur_line(x, 2, 1.0, torch.tensor([0.0, 90.0]))
    weights = torch.exp(-torch.arange(5.0) ** 2 / 2)
    weights /= weights.sum()
    # pixel (4, 4 - i) reads (4, 4) at tap i for angle 0; (4 - i, 4) for angle 90
    torch.testing.assert_close(out[0, 0, 4, [4, 3, 2, 1, 0]], weights)
    torch.testing.assert_close(out[1, 0, [4, 3, 2, 1, 0], 4], weights)
    assert out.sum(dim=(2, 3)).allclose(torch.ones(2, 1))
