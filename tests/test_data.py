"""Data: offline roots, MNIST .gz unpacking into the cache, the tensor cache, folders, augmentation, loaders."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pushpull_viz.data import (
    CIFAR10_JPEG75_LABEL,
    ImageTensors,
    TensorLoader,
    folder_dataloader,
    load_dataset,
    load_image_folder,
    random_crop_flip,
    resolve_data_root,
)

from conftest import write_idx as _write_idx


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("PUSHPULL_CACHE", str(folder))
    return folder


# ----------------------------------------------------------------------------- roots and loading


def test_resolve_data_root_errors(monkeypatch, tmp_path):
    monkeypatch.delenv("PUSHPULL_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="PUSHPULL_DATA"):
        resolve_data_root()
    with pytest.raises(FileNotFoundError, match="not a directory"):
        resolve_data_root(tmp_path / "missing")
    monkeypatch.setenv("PUSHPULL_DATA", str(tmp_path))
    assert resolve_data_root() == tmp_path


@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_mnist_like_offline_root(tmp_path, cache, packed, name, folder):
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (12, 28, 28)), rng.integers(0, 10, 12)
    root = tmp_path / "data"
    _write_idx(root, "test", images, labels, packed, folder)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    data = load_dataset(name, "test", root)
    assert data.images.dtype == torch.uint8 and data.images.shape == (12, 1, 28, 28)
    assert np.array_equal(data.images[:, 0].numpy(), images) and np.array_equal(data.labels.numpy(), labels)
    assert data.name.endswith("test") and len(data.classes) == 10
    # the data root is never written to; .gz files are unpacked into a temporary folder, and only the decoded
    # tensors are cached
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert any(cache.rglob("*.pt"))
    assert not any(p.name == "t10k-images-idx3-ubyte" for p in cache.rglob("*"))


def test_tensor_cache_is_used_and_a_damaged_one_rebuilt(tmp_path, cache):
    root = tmp_path / "data"
    _write_idx(root, "test", np.full((3, 28, 28), 7), np.arange(3), packed=False)
    first = load_dataset("mnist", "test", root)
    [cached] = list(cache.rglob("*.pt"))
    saved = torch.load(cached, weights_only=True)
    assert set(saved) == {"images", "labels", "sources", "sha256"}
    saved["images"] = saved["images"] + 1  # changed contents no longer match the stored checksum: rebuilt
    torch.save(saved, cached)
    assert int(load_dataset("mnist", "test", root).images[0, 0, 0, 0]) == 7
    cached.write_bytes(b"not a tensor file")
    assert load_dataset("mnist", "test", root).images.equal(first.images)
    # a changed source file gets a new cache entry
    _write_idx(root, "test", np.full((3, 28, 28), 9), np.arange(3), packed=False)
    os.utime(root / "MNIST" / "raw" / "t10k-images-idx3-ubyte", ns=(1, 1))
    assert int(load_dataset("mnist", "test", root).images[0, 0, 0, 0]) == 9


def test_real_mnist_from_the_shared_root(data_root):
    train, test = load_dataset("mnist", "train", data_root), load_dataset("mnist", "test", data_root)
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(test.labels).tolist()[:3] == [980, 1135, 1032]  # MNIST's known test class counts
    assert train.name == "MNIST train" and test.labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_cifar10_jpeg75_is_labelled_as_the_copy(data_root):
    test = load_dataset("cifar10-jpeg75", "test", data_root)
    assert test.images.shape == (10000, 3, 32, 32) and test.name == f"{CIFAR10_JPEG75_LABEL} test"
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    few = test.per_class(3)
    assert few.labels.tolist() == [c for c in range(10) for _ in range(3)]


def test_missing_and_unknown_datasets_say_what_to_do(tmp_path, cache):
    with pytest.raises(FileNotFoundError, match="--data-root|PUSHPULL_DATA"):
        load_dataset("mnist", "train", tmp_path)
    with pytest.raises(FileNotFoundError, match="cifar10-jpeg75"):
        load_dataset("cifar10", "test", tmp_path)
    with pytest.raises(ValueError, match="valid names: mnist, fashion-mnist"):
        load_dataset("mnsit", "train", tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_dataset("mnist", "validation", tmp_path)


def test_failed_download_explains_how_to_use_local_data(tmp_path, cache, monkeypatch):
    from torchvision import datasets

    def offline(self, *args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(datasets.MNIST, "download", offline)
    with pytest.raises(RuntimeError, match="network is unreachable.*--data-root"):
        load_dataset("mnist", "train", tmp_path, download=True)


def _write_png_folder(root, sizes=((8, 8),) * 3, mode="RGB"):
    from PIL import Image

    rng = np.random.default_rng(1)
    for cls in ("cats", "dogs"):
        (root / cls).mkdir(parents=True)
        for i, (h, w) in enumerate(sizes):
            shape = (h, w, 3) if mode == "RGB" else (h, w)
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(root / cls / f"{i}.png")


def test_image_folder(tmp_path, cache):
    _write_png_folder(tmp_path / "pets")
    data = load_image_folder(tmp_path / "pets")
    assert data.images.shape == (6, 3, 8, 8) and data.classes == ("cats", "dogs")
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert load_dataset(f"folder:{tmp_path / 'pets'}").images.equal(data.images)
    _write_png_folder(tmp_path / "gray", mode="L")
    assert load_image_folder(tmp_path / "gray").images.shape == (6, 1, 8, 8)


def test_image_folder_sizes(tmp_path, cache):
    _write_png_folder(tmp_path / "mixed", sizes=((8, 8), (10, 6)))
    with pytest.raises(ValueError, match="differ in size.*size="):
        load_image_folder(tmp_path / "mixed")
    assert load_image_folder(tmp_path / "mixed", size=5).images.shape == (4, 3, 5, 5)
    with pytest.raises(FileNotFoundError, match="sub-folder"):
        load_image_folder(tmp_path / "mixed" / "cats")


def test_folder_dataloader_is_seeded_per_epoch(tmp_path):
    _write_png_folder(tmp_path / "pets", sizes=((8, 8),) * 8)
    loader = folder_dataloader(tmp_path / "pets", batch_size=4, crop_size=8, crop_padding=2, num_workers=0, seed=3)

    def epoch(e):
        loader.set_epoch(e)
        return torch.cat([x for x, _ in loader])

    a, b, c = epoch(0), epoch(0), epoch(1)
    assert a.shape == (16, 3, 8, 8) and a.dtype == torch.float32 and 0 <= a.min() and a.max() <= 1
    assert a.equal(b) and not a.equal(c)


# ------------------------------------------------------------------------------------ augmentation


def _candidates(image, padding, mode):
    padded = F.pad(image[None].float(), (padding,) * 4, mode="reflect" if mode == "reflect" else "constant")[0]
    h, w = image.shape[-2:]
    for dy in range(2 * padding + 1):
        for dx in range(2 * padding + 1):
            crop = padded[:, dy:dy + h, dx:dx + w]
            yield crop
            yield crop.flip(-1)


@pytest.mark.parametrize("mode", ["reflect", "zeros"])
def test_random_crop_flip_matches_pad_then_crop(mode, device):
    images = torch.randint(0, 256, (40, 3, 6, 7), dtype=torch.uint8, device=device)
    out = random_crop_flip(images, padding=2, flip=True, generator=torch.Generator().manual_seed(0), padding_mode=mode)
    assert out.shape == images.shape and out.dtype == torch.uint8 and out.device == images.device
    for image, result in zip(images.cpu(), out.cpu(), strict=True):
        assert any(result.float().equal(c) for c in _candidates(image, 2, mode))
    # the draws do vary: not every image is its own unshifted, unflipped self
    assert sum(not o.equal(i) for o, i in zip(out, images, strict=True)) > 30


def test_random_crop_flip_determinism_and_checks():
    images = torch.rand(16, 1, 8, 8)
    a = random_crop_flip(images, 4, generator=torch.Generator().manual_seed(1))
    b = random_crop_flip(images, 4, generator=torch.Generator().manual_seed(1))
    c = random_crop_flip(images, 4, generator=torch.Generator().manual_seed(2))
    assert a.equal(b) and not a.equal(c)
    assert random_crop_flip(images, 0, flip=False).equal(images)
    flipped = random_crop_flip(images, 0, flip=True, generator=torch.Generator().manual_seed(0))
    assert all(f.equal(i) or f.equal(i.flip(-1)) for f, i in zip(flipped, images, strict=True))
    with pytest.raises(ValueError, match="padding"):
        random_crop_flip(images, -1)
    with pytest.raises(ValueError, match="smaller than the image"):
        random_crop_flip(images, 8)
    with pytest.raises(ValueError, match="padding_mode"):
        random_crop_flip(images, 2, padding_mode="edge")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        random_crop_flip(images[0], 2)


def _data(n=50, size=8):
    return ImageTensors(torch.randint(0, 256, (n, 1, size, size), dtype=torch.uint8), torch.arange(n) % 10,
                        tuple("0123456789"), "synthetic")


def test_tensor_loader_epochs(device):
    data = _data()
    loader = TensorLoader(data, batch_size=16, shuffle=True, crop_padding=2, flip=True, device=device, seed=5)
    assert len(loader) == 4

    def epoch(e):
        loader.set_epoch(e)
        batches = list(loader)
        return torch.cat([x for x, _ in batches]), torch.cat([y for _, y in batches])

    (x0, y0), (x0b, y0b), (_, y1) = epoch(0), epoch(0), epoch(1)
    assert x0.device.type == device.type and x0.dtype == torch.float32 and 0 <= x0.min() and x0.max() <= 1
    assert x0.equal(x0b) and y0.equal(y0b) and not y0.equal(y1)
    assert sorted(y0.tolist()) == sorted(data.labels.tolist())  # every image once per epoch


def test_tensor_loader_plain_order_and_options():
    data = _data(10)
    batches = list(TensorLoader(data, batch_size=4, drop_last=True))
    assert [len(y) for _, y in batches] == [4, 4]
    assert torch.cat([x for x, _ in batches]).equal(data.images[:8].float() / 255)
    x, _ = next(iter(TensorLoader(_data(4, 8), batch_size=4, channels_last=True)))
    assert x.is_contiguous(memory_format=torch.channels_last)
    with pytest.raises(ValueError, match="batch_size"):
        TensorLoader(data, batch_size=0)


def test_image_tensors_checks():
    with pytest.raises(ValueError, match="uint8"):
        ImageTensors(torch.rand(2, 1, 4, 4), torch.zeros(2), ("a",))
    with pytest.raises(ValueError, match="labels"):
        ImageTensors(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.zeros(3), ("a",))


def test_without_a_data_root_the_whole_split_decoded_earlier_is_used(data_root, tmp_path, monkeypatch, capsys):
    """No $PUSHPULL_DATA and no download: the split decoded into the cache on an earlier run is used (checked
    by its SHA-256 and size, announced in one line); a damaged one is not, and the message says what to do."""
    monkeypatch.setenv("PUSHPULL_CACHE", str(tmp_path / "cache"))
    first = load_dataset("mnist", "test", data_root)  # decodes into the fresh cache
    monkeypatch.delenv("PUSHPULL_DATA", raising=False)
    capsys.readouterr()
    again = load_dataset("mnist", "test")
    assert torch.equal(again.images, first.images) and torch.equal(again.labels, first.labels)
    assert "decoded earlier" in capsys.readouterr().out
    for file in (tmp_path / "cache" / "tensors").glob("mnist-test-*.pt"):
        file.write_bytes(b"not a tensor file")
    with pytest.raises(FileNotFoundError, match="no data root given"):
        load_dataset("mnist", "test")
