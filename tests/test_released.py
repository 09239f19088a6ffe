"""The released CIFAR-10-C / MNIST-C loaders and download helper, on tiny fake layouts (no network)."""

from __future__ import annotations

import hashlib
import http.client
import io
import re
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from pushpull_viz.corruptions import (
    CIFAR10C_ALL,
    MNISTC_ALL,
    RELEASED_ARCHIVES,
    ReleasedSuite,
    download_released,
    open_released,
    released,
)

N = 4  # CIFAR-10-C images per severity in the fakes
RNG = np.random.default_rng(0)


@pytest.fixture
def small_cifar(monkeypatch):
    """Fake CIFAR-10-C files hold N images per severity instead of 10000."""
    monkeypatch.setattr(released, "CIFAR10C_IMAGES_PER_SEVERITY", N)


def cifar_labels() -> np.ndarray:
    # severity s holds labels 2(s-1) and 2(s-1)+1, so a wrong block shows in the labels too
    return np.array([2 * s + i % 2 for s in range(5) for i in range(N)], dtype=np.uint8)


def make_cifar(folder: Path, corruptions=("fog", "gaussian_noise"), rows: int = 5 * N, dtype=np.uint8,
               labels: bool = True) -> dict[str, np.ndarray]:
    """Random images whose channel 0 is the severity (rows [(s-1)N, sN) -> s)."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name in corruptions:
        array = RNG.integers(0, 256, (rows, 32, 32, 3)).astype(dtype)
        array[..., 0] = (np.arange(rows) // N + 1)[:, None, None]
        np.save(folder / f"{name}.npy", array)
        arrays[name] = array
    if labels:
        np.save(folder / "labels.npy", cifar_labels())
    return arrays


def make_mnist(folder: Path, corruptions=("fog", "shear"), identity: bool = True, sizes=None) -> None:
    """Images filled with 1 + the corruption's index (0 for identity); labels 0, 1, 2, ... mod 10."""
    sizes = sizes or {"test": 3, "train": 5}
    names = list(corruptions) + (["identity"] if identity else [])
    for name in names:
        (folder / name).mkdir(parents=True, exist_ok=True)
        value = 0 if name == "identity" else 1 + list(corruptions).index(name)
        for split, n in sizes.items():
            np.save(folder / name / f"{split}_images.npy", np.full((n, 28, 28, 1), value, np.uint8))
            np.save(folder / name / f"{split}_labels.npy", np.arange(n) % 10)


# ---------------------------------------------------------------------------- CIFAR-10-C


def test_cifar_severity_blocks_images_and_labels(tmp_path, small_cifar):
    arrays = make_cifar(tmp_path / "CIFAR-10-C")
    suite = open_released(tmp_path, "cifar10-c")
    assert suite.corruptions == ("gaussian_noise", "fog")  # published order, not alphabetical
    assert suite.severities == (1, 2, 3, 4, 5) and suite.split == "test" and not suite.has_clean
    for name, array in arrays.items():
        for s in suite.severities:
            x, y = suite.images(name, s), suite.labels(name, s)
            assert x.dtype == torch.uint8 and x.shape == (N, 3, 32, 32) and x.is_contiguous()
            assert (x[:, 0] == s).all()
            block = array[(s - 1) * N:s * N]
            assert x[2, 1, 5, 17] == block[2, 5, 17, 1] and x[3, 2, 30, 1] == block[3, 30, 1, 2]  # HWC -> CHW
            assert x.equal(torch.from_numpy(block).permute(0, 3, 1, 2))
            assert y.dtype == torch.int64 and y.tolist() == [2 * (s - 1) + i % 2 for i in range(N)]
    data = suite.load("fog", 3)
    assert data.name == "CIFAR-10-C fog s3 (released)" and len(data) == N and data.classes[0] == "airplane"
    assert data.images.equal(suite.images("fog", 3)) and data.labels.equal(suite.labels("fog", 3))


def test_cifar_files_are_memory_mapped(tmp_path, small_cifar):
    make_cifar(tmp_path)
    suite = open_released(tmp_path, "cifar10-c")
    suite.images("fog", 2)
    suite.labels("fog", 2)
    assert suite._arrays and all(isinstance(a, np.memmap) for a in suite._arrays.values())


@pytest.mark.parametrize("where", ["folder", "parent"])
@pytest.mark.parametrize("suite_name", ["cifar10-c", "CIFAR-10-C", "cifar10c"])
def test_cifar_root_forms(tmp_path, small_cifar, where, suite_name):
    make_cifar(tmp_path / "CIFAR-10-C")
    suite = open_released(tmp_path / "CIFAR-10-C" if where == "folder" else tmp_path, suite_name)
    assert suite.suite == "cifar10-c" and suite.folder == tmp_path / "CIFAR-10-C"
    assert isinstance(suite, ReleasedSuite) and "2 corruptions" in repr(suite)


def test_cifar_default_expects_the_published_row_count(tmp_path):
    make_cifar(tmp_path)  # 20 rows, but the real files hold 50000
    suite = open_released(tmp_path, "cifar10-c")
    with pytest.raises(ValueError, match=r"must be uint8 of shape \(50000, 32, 32, 3\).*got uint8 \(20, 32, 32, 3\)"):
        suite.images("fog", 1)


@pytest.mark.parametrize("rows, dtype, shape_text", [
    (5 * N - 1, np.uint8, "uint8 (19, 32, 32, 3)"),
    (5 * N + 5, np.uint8, "uint8 (25, 32, 32, 3)"),
    (5 * N, np.float32, "float32 (20, 32, 32, 3)"),
])
def test_cifar_wrong_shape_or_dtype(tmp_path, small_cifar, rows, dtype, shape_text):
    make_cifar(tmp_path, corruptions=("fog",), rows=rows, dtype=dtype)
    suite = open_released(tmp_path, "cifar10-c")
    message = (r"fog\.npy must be uint8 of shape \(20, 32, 32, 3\) \(5 severities x 4 images"
               rf".*got {re.escape(shape_text)}")
    with pytest.raises(ValueError, match=message):
        suite.images("fog", 1)
    with pytest.raises(ValueError, match=message):
        suite.labels("fog", 1)


def test_cifar_wrong_image_size(tmp_path, small_cifar):
    np.save(tmp_path / "fog.npy", np.zeros((5 * N, 28, 28, 3), np.uint8))
    np.save(tmp_path / "labels.npy", cifar_labels())
    with pytest.raises(ValueError, match=r"got uint8 \(20, 28, 28, 3\)"):
        open_released(tmp_path, "cifar10-c").images("fog", 5)


def test_cifar_labels_missing_or_wrong(tmp_path, small_cifar):
    make_cifar(tmp_path, labels=False)
    with pytest.raises(FileNotFoundError, match=r"labels missing: .*labels\.npy does not exist"):
        open_released(tmp_path, "cifar10-c")
    np.save(tmp_path / "labels.npy", cifar_labels()[:-1])
    with pytest.raises(ValueError, match=r"integer labels of shape \(20,\).*got uint8 \(19,\)"):
        open_released(tmp_path, "cifar10-c").labels("fog", 1)
    np.save(tmp_path / "labels.npy", cifar_labels().astype(np.float32))
    with pytest.raises(ValueError, match=r"integer labels of shape \(20,\).*got float32 \(20,\)"):
        open_released(tmp_path, "cifar10-c").labels("fog", 1)
    np.save(tmp_path / "labels.npy", cifar_labels() + 1)  # severity 5 holds label 10
    suite = open_released(tmp_path, "cifar10-c")
    assert suite.labels("fog", 4).tolist() == [7, 8, 7, 8]
    with pytest.raises(ValueError, match=r"labels outside 0\.\.9 \(found 9\.\.10\)"):
        suite.labels("fog", 5)


def test_cifar_unreadable_file(tmp_path, small_cifar):
    make_cifar(tmp_path)
    (tmp_path / "snow.npy").write_bytes(b"not an npy file")
    suite = open_released(tmp_path, "cifar10-c")
    assert "snow" in suite.corruptions
    with pytest.raises(ValueError, match=r"snow\.npy is not a readable \.npy array"):
        suite.images("snow", 1)


def test_cifar_unknown_or_absent_corruption(tmp_path, small_cifar):
    make_cifar(tmp_path)
    suite = open_released(tmp_path, "cifar10-c")
    with pytest.raises(ValueError, match=r"unknown cifar10-c corruption 'fgo'\. Did you mean 'fog'\? "
                                         r"Present in .*: gaussian_noise, fog$"):
        suite.images("fgo", 1)
    with pytest.raises(ValueError, match="unknown cifar10-c corruption 'nonsense'. Present in"):
        suite.labels("nonsense", 1)
    with pytest.raises(FileNotFoundError, match=r"'zoom_blur' is not in .* \(no zoom_blur\.npy\); "
                                                r"present: gaussian_noise, fog"):
        suite.images("zoom_blur", 1)


@pytest.mark.parametrize("severity", [0, 6, -1, True, 2.0, "3", None])
def test_cifar_severity_out_of_range(tmp_path, small_cifar, severity):
    make_cifar(tmp_path)
    suite = open_released(tmp_path, "cifar10-c")
    message = rf"severity must be an integer in 1\.\.5 for cifar10-c, got {re.escape(repr(severity))}"
    with pytest.raises(ValueError, match=message):
        suite.images("fog", severity)
    with pytest.raises(ValueError, match="severity must be an integer in 1..5"):
        suite.labels("fog", severity)


def test_cifar_has_no_clean_set_and_no_train_split(tmp_path, small_cifar):
    make_cifar(tmp_path)
    with pytest.raises(ValueError, match="CIFAR-10-C has no clean images; use .*load_dataset\\('cifar10', 'test'\\)"):
        open_released(tmp_path, "cifar10-c").clean()
    with pytest.raises(ValueError, match=r"split must be 'test' for cifar10-c \(the release holds test images only\)"):
        open_released(tmp_path, "cifar10-c", split="train")


def test_missing_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"root '.*nowhere' is not a directory; expected the released "
                                                r"CIFAR-10-C layout: <corruption>\.npy files .*CIFAR-10-C/ "
                                                r"sub-folder\. Get it with pushpull_viz\.corruptions\."
                                                r"download_released\('cifar10-c'"):
        open_released(tmp_path / "nowhere", "cifar10-c")
    (tmp_path / "empty" / "CIFAR-10-C").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"no CIFAR-10-C files in .*empty or .*empty/CIFAR-10-C.*"
                                                r"zenodo\.org/records/2535967"):
        open_released(tmp_path / "empty", "cifar10-c")
    with pytest.raises(FileNotFoundError, match=r"no MNIST-C files in .*mnist_c; expected the released MNIST-C layout: "
                                                r"<corruption>/\{train,test\}_\{images,labels\}\.npy.*"
                                                r"download_released\('mnist-c'"):
        open_released(tmp_path / "empty", "mnist-c")
    make_cifar(tmp_path / "cifar", labels=True)  # a CIFAR folder is not an MNIST-C one
    with pytest.raises(FileNotFoundError, match="no MNIST-C files"):
        open_released(tmp_path / "cifar", "mnist-c")


@pytest.mark.parametrize("suite", ["cifar100-c", "", "mnist"])
def test_unknown_suite(tmp_path, suite):
    with pytest.raises(ValueError, match=rf"suite must be one of 'cifar10-c', 'mnist-c', 'imagenet-c', got {suite!r}"):
        open_released(tmp_path, suite)
    with pytest.raises(ValueError, match="suite must be one of"):
        download_released(suite, tmp_path)


def test_imagenet_c_is_opened_but_not_downloaded(tmp_path):
    with pytest.raises(FileNotFoundError, match="no ImageNet-C corruption folders .*Zenodo record 2235448"):
        open_released(tmp_path, "imagenet-c")
    with pytest.raises(ValueError, match="ImageNet-C is not downloaded by this package .* by hand"):
        download_released("imagenet-c", tmp_path)  # tens of GB of tar files


# ---------------------------------------------------------------------------- MNIST-C


@pytest.mark.parametrize("where", ["folder", "parent"])
def test_mnist_splits_values_and_clean_set(tmp_path, where):
    make_mnist(tmp_path / "mnist_c", corruptions=("zigzag", "fog", "shear"))
    root = tmp_path / "mnist_c" if where == "folder" else tmp_path
    suite = open_released(root, "mnist-c")
    assert suite.corruptions == ("shear", "fog", "zigzag")  # published order; identity is not a corruption
    assert suite.severities == (1,) and suite.split == "test" and suite.has_clean
    for index, name in enumerate(("zigzag", "fog", "shear")):
        x = suite.images(name)
        assert x.dtype == torch.uint8 and x.shape == (3, 1, 28, 28) and (x == index + 1).all()
        assert suite.images(name, 1).equal(x) and suite.labels(name).tolist() == [0, 1, 2]
    train = open_released(root, "mnist-c", split="train")
    assert train.images("fog").shape == (5, 1, 28, 28) and train.labels("fog", 1).tolist() == [0, 1, 2, 3, 4]
    clean = suite.clean()
    assert clean.images.shape == (3, 1, 28, 28) and (clean.images == 0).all() and clean.labels.tolist() == [0, 1, 2]
    assert clean.name == "MNIST-C identity test (released)" and train.clean().images.shape[0] == 5
    loaded = train.load("shear")
    assert loaded.name == "MNIST-C shear train (released)" and loaded.classes == tuple("0123456789")


def test_mnist_errors(tmp_path):
    make_mnist(tmp_path, identity=False)
    suite = open_released(tmp_path, "mnist-c")
    assert not suite.has_clean
    with pytest.raises(FileNotFoundError, match=r"clean MNIST-C set is missing: expected .*identity/test_images\.npy"):
        suite.clean()
    for severity in (2, 0, True):
        with pytest.raises(ValueError, match=rf"severity must be 1 for mnist-c \(one fixed severity per corruption\), "
                                             rf"got {severity!r}"):
            suite.images("fog", severity)
    with pytest.raises(ValueError, match=r"'identity' is the clean MNIST-C set: use \.clean\(\)"):
        suite.images("identity")
    with pytest.raises(ValueError, match=r"unknown mnist-c corruption 'sheer'\. Did you mean 'shear'\?.*: shear, fog$"):
        suite.images("sheer")
    with pytest.raises(FileNotFoundError,
                       match=r"'rotate' is not in .* \(no rotate/test_images\.npy\); present: shear, fog"):
        suite.labels("rotate")
    with pytest.raises(ValueError, match=r"split must be 'train' or 'test' for mnist-c, got 'val'"):
        open_released(tmp_path, "mnist-c", split="val")


def test_mnist_bad_files(tmp_path):
    make_mnist(tmp_path, corruptions=("fog", "shear", "scale", "rotate"))
    (tmp_path / "fog" / "test_labels.npy").unlink()
    np.save(tmp_path / "shear" / "test_labels.npy", np.arange(4))
    np.save(tmp_path / "scale" / "test_images.npy", np.zeros((3, 28, 28), np.uint8))
    np.save(tmp_path / "rotate" / "test_images.npy", np.zeros((3, 28, 28, 1), np.int16))
    suite = open_released(tmp_path, "mnist-c")
    assert suite.images("fog").shape == (3, 1, 28, 28)
    with pytest.raises(FileNotFoundError, match=r"labels missing: .*fog/test_labels\.npy does not exist \(expected 3"):
        suite.labels("fog")
    with pytest.raises(FileNotFoundError, match="labels missing"):
        suite.load("fog")
    with pytest.raises(ValueError,
                       match=r"shear/test_labels\.npy must hold integer labels of shape \(3,\).*got int64 \(4,\)"):
        suite.labels("shear")
    with pytest.raises(ValueError,
                       match=r"scale/test_images\.npy must be uint8 of shape \(N, 28, 28, 1\), "
                             r"got uint8 \(3, 28, 28\)"):
        suite.images("scale")
    with pytest.raises(ValueError, match=r"rotate/test_images\.npy must be uint8 .*got int16 \(3, 28, 28, 1\)"):
        suite.images("rotate")


# ---------------------------------------------------------------------------- download


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def mnist_zip(tmp_path: Path) -> Path:
    """A complete (tiny) mnist_c.zip: all 15 corruptions and identity, both splits."""
    source = tmp_path / "source"
    make_mnist(source / "mnist_c", corruptions=MNISTC_ALL, sizes={"test": 2, "train": 3})
    archive = tmp_path / "served" / "mnist_c.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((source / "mnist_c").rglob("*")):
            zf.write(path, path.relative_to(source).as_posix())
    return archive


def cifar_tar(tmp_path: Path) -> Path:
    source = tmp_path / "source" / "CIFAR-10-C"
    make_cifar(source, corruptions=CIFAR10C_ALL)
    archive = tmp_path / "served" / "CIFAR-10-C.tar"
    archive.parent.mkdir()
    with tarfile.open(archive, "w") as tf:
        tf.add(source, arcname="CIFAR-10-C")
    return archive


def no_network(*args, **kwargs):
    raise AssertionError("download_released opened a URL although nothing was left to download")


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".") or p.name.endswith(".part"))


def test_download_mnist_end_to_end_then_idempotent(tmp_path, monkeypatch, capsys):
    archive = mnist_zip(tmp_path)
    root = tmp_path / "data"
    folder = download_released("mnist-c", root, url=archive.as_uri(), md5=md5_of(archive))
    assert folder == root / "mnist_c" and not (root / "mnist_c.zip").exists() and leftovers(root) == []
    suite = open_released(root, "mnist-c")
    assert suite.corruptions == MNISTC_ALL and suite.has_clean
    assert (suite.images("canny_edges") == 15).all() and suite.images("canny_edges").shape == (2, 1, 28, 28)
    assert "mnist_c.zip" in capsys.readouterr().err  # the tqdm bar
    monkeypatch.setattr(released, "_urlopen", no_network)
    assert download_released("mnist-c", root, url=archive.as_uri(), md5=md5_of(archive)) == folder
    assert download_released("mnist-c", root / "mnist_c") == folder  # root = the folder itself: nothing to do


def test_download_cifar_tar_keep_archive_and_reextract(tmp_path, small_cifar, monkeypatch):
    archive = cifar_tar(tmp_path)
    root = tmp_path / "data"
    folder = download_released("cifar10-c", root, progress=False, url=archive.as_uri(), md5=md5_of(archive),
                               keep_archive=True)
    assert folder == root / "CIFAR-10-C" and (root / "CIFAR-10-C.tar").read_bytes() == archive.read_bytes()
    suite = open_released(root, "cifar10-c")
    assert suite.corruptions == CIFAR10C_ALL and (suite.images("zoom_blur", 4)[:, 0] == 4).all()
    del suite
    # the folder is gone but the verified archive is there: unpack again, no download
    shutil.rmtree(folder)
    monkeypatch.setattr(released, "_urlopen", no_network)
    assert download_released("cifar10-c", root, progress=False, md5=md5_of(archive)) == folder
    assert (folder / "labels.npy").is_file() and not (root / "CIFAR-10-C.tar").exists() and leftovers(root) == []


def test_download_bad_md5_deletes_the_file(tmp_path):
    archive = mnist_zip(tmp_path)
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match=rf"mnist_c\.zip\.part from .* is corrupt \(MD5 {md5_of(archive)} instead "
                                           rf"of 0{{32}}\); it was deleted"):
        download_released("mnist-c", root, progress=False, url=archive.as_uri(), md5="0" * 32)
    assert sorted(p.name for p in root.iterdir()) == []  # no .part, no archive, no folder
    folder = download_released("mnist-c", root, progress=False, url=archive.as_uri(), md5=md5_of(archive))
    assert (folder / "fog" / "test_images.npy").is_file()


def test_download_default_spec_checks_the_published_size(tmp_path, monkeypatch):
    archive = mnist_zip(tmp_path)
    requests = []

    def opener(request, timeout):
        requests.append(request.full_url)
        return urllib.request.urlopen(archive.as_uri(), timeout=timeout)

    monkeypatch.setattr(released, "_urlopen", opener)
    size = archive.stat().st_size
    with pytest.raises(RuntimeError, match=rf"is corrupt \({size} bytes instead of 246661575\)"):
        download_released("mnist-c", tmp_path / "data", progress=False)
    assert requests == [RELEASED_ARCHIVES["mnist-c"].url]
    assert not (tmp_path / "data" / "mnist_c.zip.part").exists()
    # with the size it expects, the MD5 decides
    monkeypatch.setitem(RELEASED_ARCHIVES, "mnist-c", released.ReleasedArchive(
        url="https://example.invalid/mnist_c.zip", filename="mnist_c.zip", folder="mnist_c", md5=md5_of(archive),
        size=size))
    assert download_released("mnist-c", tmp_path / "data", progress=False).name == "mnist_c"
    assert requests[-1] == "https://example.invalid/mnist_c.zip"


class FakeServer:
    """Serves ``data``; honours Range (206) unless ``ranges`` is False; can drop the connection once."""

    def __init__(self, data: bytes, ranges: bool = True, drop_after: int | None = None, status: int | None = None):
        self.data, self.ranges, self.drop_after, self.status = data, ranges, drop_after, status
        self.requests: list[str | None] = []

    def __call__(self, request, timeout):
        asked = request.get_header("Range")
        self.requests.append(asked)
        if self.status:
            raise urllib.error.HTTPError(request.full_url, self.status, "Not Found", {}, None)
        start = int(asked.split("=")[1].rstrip("-")) if asked and self.ranges else 0
        if start >= len(self.data):
            raise urllib.error.HTTPError(request.full_url, 416, "Range Not Satisfiable", {}, None)
        body = self.data[start:]
        headers = {"Content-Length": str(len(body))}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(self.data) - 1}/{len(self.data)}"
        drop_after, self.drop_after = self.drop_after, None
        return FakeResponse(body, 206 if start else 200, headers, drop_after)


class FakeResponse(io.BytesIO):
    def __init__(self, body: bytes, status: int, headers: dict, drop_after: int | None):
        super().__init__(body)
        self.status, self.headers, self.drop_after = status, headers, drop_after

    def read(self, size=-1):
        if self.drop_after is not None and self.tell() >= self.drop_after:
            raise http.client.IncompleteRead(b"")
        if self.drop_after is not None:
            size = min(size, self.drop_after - self.tell())
        return super().read(size)


def test_download_resumes_with_range(tmp_path, monkeypatch):
    archive = mnist_zip(tmp_path)
    data = archive.read_bytes()
    root = tmp_path / "data"
    root.mkdir()
    (root / "mnist_c.zip.part").write_bytes(data[:1000])
    server = FakeServer(data)
    monkeypatch.setattr(released, "_urlopen", server)
    download_released("mnist-c", root, progress=False, md5=md5_of(archive))
    assert server.requests == ["bytes=1000-"] and open_released(root, "mnist-c").images("fog").shape[0] == 2


def test_download_restarts_when_the_part_is_longer_than_the_archive(tmp_path, monkeypatch):
    archive = mnist_zip(tmp_path)
    data, root = archive.read_bytes(), tmp_path / "data"
    root.mkdir()
    (root / "mnist_c.zip.part").write_bytes(data + b"trailing junk")
    monkeypatch.setitem(RELEASED_ARCHIVES, "mnist-c", released.ReleasedArchive(
        url="https://example.invalid/mnist_c.zip", filename="mnist_c.zip", folder="mnist_c", md5=md5_of(archive),
        size=len(data)))
    server = FakeServer(data)
    monkeypatch.setattr(released, "_urlopen", server)
    download_released("mnist-c", root, progress=False)
    assert server.requests == [None] and (root / "mnist_c" / "zigzag" / "test_images.npy").is_file()


def test_download_restarts_when_the_server_ignores_range(tmp_path, monkeypatch):
    archive = mnist_zip(tmp_path)
    root = tmp_path / "data"
    root.mkdir()
    (root / "mnist_c.zip.part").write_bytes(b"garbage" * 100)  # appending to this would break the MD5
    server = FakeServer(archive.read_bytes(), ranges=False)
    monkeypatch.setattr(released, "_urlopen", server)
    download_released("mnist-c", root, progress=False, md5=md5_of(archive))
    assert server.requests == ["bytes=700-"] and (root / "mnist_c" / "identity" / "train_labels.npy").is_file()


def test_download_dropped_connection_resumes(tmp_path, monkeypatch):
    archive = mnist_zip(tmp_path)
    data, root = archive.read_bytes(), tmp_path / "data"
    server = FakeServer(data, drop_after=5000)
    monkeypatch.setattr(released, "_urlopen", server)
    with pytest.raises(ConnectionError, match=r"failed after 1 attempts .*call download_released again to resume "
                                              r"from .*mnist_c\.zip\.part"):
        download_released("mnist-c", root, progress=False, md5=md5_of(archive), retries=0)
    assert (root / "mnist_c.zip.part").read_bytes() == data[:5000]  # kept for the next call
    download_released("mnist-c", root, progress=False, md5=md5_of(archive))
    assert server.requests == [None, "bytes=5000-"] and (root / "mnist_c").is_dir()
    # within one call: the retry resumes too
    server = FakeServer(data, drop_after=3000)
    monkeypatch.setattr(released, "_urlopen", server)
    download_released("mnist-c", tmp_path / "again", progress=False, md5=md5_of(archive), retries=1)
    assert server.requests == [None, "bytes=3000-"]


def test_download_complete_part_gets_416_then_verified(tmp_path, monkeypatch):
    archive = mnist_zip(tmp_path)
    root = tmp_path / "data"
    root.mkdir()
    (root / "mnist_c.zip.part").write_bytes(archive.read_bytes())  # killed before the rename
    server = FakeServer(archive.read_bytes())
    monkeypatch.setattr(released, "_urlopen", server)
    download_released("mnist-c", root, progress=False, md5=md5_of(archive))
    assert server.requests == [f"bytes={archive.stat().st_size}-"] and (root / "mnist_c").is_dir()


def test_download_http_error_is_not_retried(tmp_path, monkeypatch):
    server = FakeServer(b"", status=404)
    monkeypatch.setattr(released, "_urlopen", server)
    with pytest.raises(ConnectionError, match=r"downloading https://zenodo\.org/records/3239543/.* failed: HTTP 404"):
        download_released("mnist-c", tmp_path, progress=False, retries=3)
    assert server.requests == [None]


def test_download_refuses_an_incomplete_existing_folder(tmp_path, monkeypatch):
    make_mnist(tmp_path / "mnist_c")  # only fog and shear
    monkeypatch.setattr(released, "_urlopen", no_network)
    with pytest.raises(FileExistsError, match=r"mnist_c exists but lacks 52 of the 64 released files \(e\.g\. "
                                              r"shot_noise/train_images\.npy.*delete .*mnist_c to download"):
        download_released("mnist-c", tmp_path)


def evil_zip(path: Path, name: str) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mnist_c/fog/test_images.npy", b"x")
        zf.writestr(name, b"evil")
    return path


@pytest.mark.parametrize("name", ["../evil.txt", "mnist_c/../../evil.txt", "/tmp/evil-pushpull.txt"])
def test_download_refuses_zip_paths_outside_root(tmp_path, monkeypatch, name):
    archive = evil_zip(tmp_path / "evil.zip", name)
    root = tmp_path / "data"
    with pytest.raises(ValueError, match=rf"refusing to extract .*member {re.escape(repr(name))} would land outside"):
        download_released("mnist-c", root, progress=False, url=archive.as_uri(), md5=md5_of(archive))
    assert not (tmp_path / "evil.txt").exists() and sorted(p.name for p in root.iterdir()) == ["mnist_c.zip"]


def test_download_refuses_tar_escapes_and_links(tmp_path):
    root = tmp_path / "data"
    for kind in ("escape", "symlink"):
        archive = tmp_path / f"{kind}.tar"
        with tarfile.open(archive, "w") as tf:
            info = tarfile.TarInfo("CIFAR-10-C/labels.npy" if kind == "symlink" else "../evil.npy")
            if kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tf.addfile(info)
            else:
                info.size = 4
                tf.addfile(info, io.BytesIO(b"evil"))
        expected = "would land outside" if kind == "escape" else "is a link or special file"
        with pytest.raises(ValueError, match=expected):
            download_released("cifar10-c", root, progress=False, url=archive.as_uri(), md5=md5_of(archive))
        assert not (tmp_path / "evil.npy").exists() and not (root / "CIFAR-10-C").exists()
        assert leftovers(root) == []
        (root / "CIFAR-10-C.tar").unlink()


def test_download_archive_without_the_expected_folder(tmp_path):
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("something_else/a.npy", b"x")
    with pytest.raises(ValueError, match=r"should unpack to a mnist_c/ folder, found: something_else"):
        download_released("mnist-c", tmp_path / "data", progress=False, url=archive.as_uri(), md5=md5_of(archive))
    assert not (tmp_path / "data" / "mnist_c").exists() and leftovers(tmp_path / "data") == []


def test_published_archive_records():
    cifar, mnist = RELEASED_ARCHIVES["cifar10-c"], RELEASED_ARCHIVES["mnist-c"]
    assert "zenodo.org/records/2535967/" in cifar.url and cifar.filename == "CIFAR-10-C.tar"
    assert "zenodo.org/records/3239543/" in mnist.url and mnist.filename == "mnist_c.zip"
    assert cifar.md5 == "56bf5dcef84df0e2308c6dcbcbbd8499" and mnist.md5 == "4b34b33045869ee6d424616cd3a65da3"
    assert (cifar.size, mnist.size) == (2_918_471_680, 246_661_575)
    assert len(MNISTC_ALL) == 15 == len(set(MNISTC_ALL)) and len(CIFAR10C_ALL) == 19



def test_evaluate_released_scores_each_file_block(small_cifar, tmp_path):
    """robustness.evaluate_released reads each severity's block: a model that answers with the
    image's severity mark (channel 0) is right exactly where the labels of that block say so."""
    from torch import nn

    from pushpull_viz.data import ImageTensors
    from pushpull_viz.robustness import evaluate_released

    make_cifar(tmp_path / "CIFAR-10-C")
    suite = open_released(tmp_path, "cifar10-c")

    class SeverityReader(nn.Module):
        def __init__(self):
            super().__init__()
            self.unused = nn.Parameter(torch.zeros(()))

        def forward(self, x):  # class = 2 * (severity - 1): right on half of each block's labels
            severity = (x[:, 0, 0, 0] * 255).round().long()
            return nn.functional.one_hot(2 * (severity - 1), 10).float()

    clean = ImageTensors(torch.full((6, 3, 32, 32), 1, dtype=torch.uint8), torch.zeros(6, dtype=torch.long),
                         tuple(map(str, range(10))), "clean fake")
    table = evaluate_released(SeverityReader(), suite, severities=[1, 3, 5], clean=clean, batch_size=3,
                              progress=False)
    assert table["corruption"].tolist() == ["clean"] + ["gaussian_noise"] * 3 + ["fog"] * 3  # published order
    assert table["severity"].tolist() == [0, 1, 3, 5, 1, 3, 5]
    assert table["accuracy"].tolist() == [1.0] + [0.5] * 6 and (table["n"][1:] == N).all()
    with pytest.raises(ValueError, match=r"severities \[6\]"):
        evaluate_released(SeverityReader(), suite, severities=[6], progress=False)
