"""Corruptions: the registry, corrupt() contracts, and the paper's MNIST suites."""

from __future__ import annotations

import pytest
import torch

from pushpull_viz.corruptions import MNIST_SUITES, corrupt, corruption_info, list_corruptions


def test_registry():
    assert list_corruptions("mnist") == ["mnist_gaussian_noise", "mnist_poisson_contrast"] == list(MNIST_SUITES)
    assert corruption_info("mnist_gaussian_noise").levels[4] == 0.2  # the paper's quoted sigma^2
    assert corruption_info("mnist_poisson_contrast").levels == (1.0, 0.5, 0.4, 0.3, 0.2)
    with pytest.raises(ValueError, match="Did you mean 'mnist_gaussian_noise'.*Valid names"):
        corruption_info("mnist_gausian_noise")


# corruptions without random parameters (everything else draws from the generator)
_SEEDLESS = ("gaussian_blur", "defocus_blur", "zoom_blur", "brightness", "contrast", "saturate", "pixelate",
             "jpeg_compression")
DETERMINISTIC = {*_SEEDLESS, *(f"imagenetc_{name}" for name in _SEEDLESS), "mnistc_scale", "mnistc_brightness",
                 "mnistc_stripe", "mnistc_canny_edges"}


@pytest.mark.parametrize("name", list_corruptions())
def test_contract(name, device):
    channels = 1 if corruption_info(name).suite.startswith("mnist") else 3
    x = torch.rand(3, channels, 28, 28, device=device)
    for severity in corruption_info(name).severities:
        g = torch.Generator(device=device)
        a = corrupt(x, name, severity, g.manual_seed(0))
        b = corrupt(x, name, severity, g.manual_seed(0))
        c = corrupt(x, name, severity, g.manual_seed(1))
        assert a.shape == x.shape and a.dtype == x.dtype and a.device == x.device
        assert a.equal(b) and 0 <= a.min() and a.max() <= 1
        if name not in DETERMINISTIC:
            assert not a.equal(c), "another seed must give another corruption"
        else:
            assert a.equal(c)
    u = (x * 255).round().to(torch.uint8)
    out = corrupt(u, name, corruption_info(name).severities[-1], torch.Generator(device=device).manual_seed(0))
    assert out.dtype == torch.uint8 and out.shape == u.shape and out.device == u.device
    assert corrupt(x.double(), name, 1).dtype == torch.float64


def test_gaussian_noise_has_the_stated_variance():
    x = torch.full((20, 1, 28, 28), 0.5)
    for severity in (1, 2, 3):  # small variances: clipping at 0 and 1 is negligible
        variance = corruption_info("mnist_gaussian_noise").levels[severity - 1]
        noisy = corrupt(x, "mnist_gaussian_noise", severity, torch.Generator().manual_seed(0))
        assert (noisy - x).var().item() == pytest.approx(variance, rel=0.05)


def test_poisson_contrast_mean_and_noise():
    x = torch.zeros(20, 1, 28, 28)
    x[..., 10:18, :] = 1
    for severity, contrast in enumerate((1.0, 0.5, 0.4, 0.3, 0.2), start=1):
        y = corrupt(x, "mnist_poisson_contrast", severity, torch.Generator().manual_seed(0))
        white, black = y[..., 10:18, :].mean().item(), y[..., :10, :].mean().item()
        assert black == pytest.approx(0.5 - contrast / 2, abs=0.01)
        if contrast < 1:  # at C = 1 the noise on white pixels is clipped at 1
            assert white - black == pytest.approx(contrast, abs=0.02)
            assert y[..., :10, :].std().item() == pytest.approx(((0.5 - contrast / 2) / 256) ** 0.5, rel=0.1)


def test_bad_input_is_rejected():
    x = torch.rand(2, 1, 28, 28)
    with pytest.raises(ValueError, match=r"severity of 'mnist_poisson_contrast' must be an integer in 1..5"):
        corrupt(x, "mnist_poisson_contrast", 6)
    with pytest.raises(ValueError, match="1..7"):
        corrupt(x, "mnist_gaussian_noise", 0)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\].*divide by 255"):
        corrupt(x * 255, "mnist_gaussian_noise", 1)
    with pytest.raises(ValueError, match="C = 1 or 3"):
        corrupt(torch.rand(2, 2, 8, 8), "mnist_gaussian_noise", 1)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        corrupt(torch.rand(1, 28, 28), "mnist_gaussian_noise", 1)
    with pytest.raises(ValueError, match="uint8 or floating"):
        corrupt(torch.zeros(1, 1, 4, 4, dtype=torch.int32), "mnist_gaussian_noise", 1)


@pytest.mark.parametrize("channels", [1, 3])
def test_jpeg_round_trip_gives_pillows_images(channels):
    """The JPEG corruption encodes with libjpeg through torchvision (threaded): the images must be
    Pillow's, as the CIFAR-10-C script makes them, whatever the chunking."""
    import io

    import numpy as np
    from PIL import Image

    from pushpull_viz.corruptions import cifar_digital

    g = torch.Generator().manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(40, channels, 8, 8, generator=g), size=32, mode="bicubic")
    images = (255 * (smooth + 0.05 * torch.rand(smooth.shape, generator=g)).clamp(0, 1)).round().to(torch.uint8)
    for severity, quality in enumerate(corruption_info("jpeg_compression").levels, start=1):
        expected = []
        for image in images.permute(0, 2, 3, 1).numpy():
            buffer = io.BytesIO()
            Image.fromarray(image[..., 0] if channels == 1 else image).save(buffer, format="JPEG", quality=quality)
            buffer.seek(0)
            expected.append(torch.from_numpy(np.asarray(Image.open(buffer)).copy()).reshape(32, 32, channels))
        expected = torch.stack(expected).permute(0, 3, 1, 2)
        assert torch.equal(corrupt(images, "jpeg_compression", severity), expected), (channels, quality)
    whole = corrupt(images, "jpeg_compression", 5)
    chunk, threads = cifar_digital._JPEG_CHUNK, torch.get_num_threads()
    try:
        cifar_digital._JPEG_CHUNK = 7  # six chunks on a pool of two threads
        torch.set_num_threads(2)
        assert torch.equal(corrupt(images, "jpeg_compression", 5), whole)
    finally:
        cifar_digital._JPEG_CHUNK = chunk
        torch.set_num_threads(threads)
