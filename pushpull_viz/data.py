"""Data: datasets as uint8 tensors, offline roots, a tensor cache, and fast batched augmentation.

Two ways to feed a model:

* **Fast path** (MNIST, Fashion-MNIST, CIFAR-10 and its JPEG-75 copy, any small folder):
  :func:`load_dataset` returns an :class:`ImageTensors` (``uint8 (N, C, H, W)`` images and
  ``int64`` labels). A :class:`TensorLoader` keeps them on the training device and makes
  each batch there: shuffling, random crop with reflect padding and horizontal flip are
  index arithmetic on the whole batch (:func:`random_crop_flip`), then ``/ 255``.
* **Standard path** (large or custom data): :func:`folder_dataloader` wraps torchvision's
  ``ImageFolder`` in a ``DataLoader`` with the same augmentation as PIL transforms.

Either way batches leave as float images in [0, 1]; the models normalise inside.

Where the data lives: an argument ``root`` or the ``PUSHPULL_DATA`` environment variable
(:func:`resolve_data_root`). An offline root works without the network: MNIST's ``.gz``
files are unpacked into the cache (never into the data root), and decoded tensors are
cached (``$PUSHPULL_CACHE``, default ``~/.cache/pushpull-viz``) so the next run skips decoding.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .distributed import local_batch_size, share_of_batch, world

__all__ = [
    "CACHE_ENV",
    "CIFAR10_CLASSES",
    "CIFAR10_JPEG75_LABEL",
    "DATASETS",
    "DATA_ROOT_ENV",
    "EpochDataLoader",
    "FASHION_MNIST_CLASSES",
    "FOLDER_PIPELINES",
    "ImageTensors",
    "TensorLoader",
    "cache_dir",
    "folder_dataloader",
    "folder_split",
    "image_folder",
    "imagenet_transform",
    "load_cifar10_jpeg75",
    "load_dataset",
    "load_image_folder",
    "random_crop_flip",
    "resolve_data_root",
]

DATA_ROOT_ENV = "PUSHPULL_DATA"
CACHE_ENV = "PUSHPULL_CACHE"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
MNIST_CLASSES = tuple(str(d) for d in range(10))
#: How results on the lossy offline copy must be labelled wherever they show up.
CIFAR10_JPEG75_LABEL = "CIFAR-10 (JPEG-75 copy)"
#: Names accepted by :func:`load_dataset`, with the label used in logs, tables and figures.
DATASETS = {
    "mnist": "MNIST",
    "fashion-mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "cifar10-jpeg75": CIFAR10_JPEG75_LABEL,
}
_NO_DATA_HINT = (
    f"point the data root at local data (--data-root DIR or export {DATA_ROOT_ENV}=DIR, e.g. ../shared/data) "
    "or allow the download (download=True / --download) on a machine with internet access"
)


def resolve_data_root(root: str | os.PathLike | None = None, *, required: bool = True) -> Path | None:
    """The data root, as an absolute path: the one definition every entry point uses.

    In order: ``root`` if given, else ``$PUSHPULL_DATA``. A relative path is taken against the
    current directory, or, if it is not found there, against its parent folders (so
    ``PUSHPULL_DATA=../shared/data`` set in the project folder also works for a notebook kernel
    running in ``notebooks/``). The folder must exist.

    Args:
        root: an explicit data root (``--data-root``), or None.
        required: with neither ``root`` nor ``$PUSHPULL_DATA``, raise (True) or return None (False).

    Returns:
        The absolute path, or None (no root given and ``required=False``).

    Example:
        >>> resolve_data_root("/", required=False)
        PosixPath('/')
    """
    source = "argument"
    if root is None or root == "":
        root = os.environ.get(DATA_ROOT_ENV) or None
        source = f"${DATA_ROOT_ENV}"
    if root is None:
        if not required:
            return None
        raise FileNotFoundError(
            f"no data root given: pass --data-root DIR (root=... in Python) or set {DATA_ROOT_ENV} to the absolute "
            f"path of a folder holding the datasets "
            f"(for example: export {DATA_ROOT_ENV}=\"$(realpath ../shared/data)\")"
        )
    path = Path(root).expanduser()
    if not path.is_absolute():
        here = Path.cwd()
        candidates = [folder / path for folder in (here, *list(here.parents)[:2])]
        path = next((c for c in candidates if c.is_dir()), candidates[0])
    path = path.resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"data root {path} (from {source} {str(root)!r}) is not a directory; point "
                                f"{DATA_ROOT_ENV} or --data-root at the folder holding MNIST/ and cifar10-jpeg75/")
    return path


def cache_dir() -> Path:
    """Where decoded tensors go: ``$PUSHPULL_CACHE`` or ``~/.cache/pushpull-viz`` (created if needed)."""
    path = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "pushpull-viz").expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PermissionError(f"cannot create the cache folder {path} ({error.strerror}); set {CACHE_ENV} to a "
                              "writable folder") from None
    return path


@dataclass
class ImageTensors:
    """A labelled image set held as tensors.

    Attributes:
        images: ``uint8 (N, C, H, W)``.
        labels: ``int64 (N,)``, class indices into ``classes``.
        classes: class names.
        name: how the set is labelled in logs, tables and figures (e.g. ``"MNIST test"``).
    """

    images: Tensor
    labels: Tensor
    classes: tuple[str, ...]
    name: str = "images"

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"labels must have shape ({self.images.shape[0]},), got {tuple(self.labels.shape)}")
        self.labels = self.labels.long()

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def to(self, device: str | torch.device) -> ImageTensors:
        return ImageTensors(self.images.to(device), self.labels.to(device), self.classes, self.name)

    def subset(self, indices: Sequence[int] | Tensor | slice) -> ImageTensors:
        """A subset by indices or slice (the name is kept)."""
        if isinstance(indices, slice):
            return ImageTensors(self.images[indices], self.labels[indices], self.classes, self.name)
        index = torch.as_tensor(indices, dtype=torch.long, device=self.images.device)
        return ImageTensors(self.images[index], self.labels[index], self.classes, self.name)

    def per_class(self, n: int) -> ImageTensors:
        """The first ``n`` images of each class, classes in order (a balanced, deterministic subset)."""
        picks = [torch.nonzero(self.labels == c).flatten()[:n] for c in range(len(self.classes))]
        return self.subset(torch.cat(picks))

    def float(self) -> Tensor:
        """The images as float in [0, 1]."""
        return self.images.float().div_(255)


# ----------------------------------------------------------------------------------- loading


def load_dataset(
    name: str,
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = False,
    use_cache: bool = True,
) -> ImageTensors:
    """Load a whole dataset split as :class:`ImageTensors`.

    Args:
        name: ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``, ``"cifar10-jpeg75"`` (the offline
            JPEG-75 copy) or ``"folder:PATH"`` (class sub-folders, see :func:`load_image_folder`;
            ``split`` is then a sub-folder of ``PATH`` if one of that name exists, see :func:`folder_split`).
        split: ``"train"`` or ``"test"``.
        root: data root (default ``$PUSHPULL_DATA``). With ``download=True`` and no root,
            ``<cache>/datasets`` is used.
        download: let torchvision download missing MNIST / Fashion-MNIST / CIFAR-10 files.
        use_cache: read/write decoded tensors in :func:`cache_dir`.

    Example:
        >>> train = load_dataset("mnist", "train")  # doctest: +SKIP
        >>> train.images.shape, train.name  # doctest: +SKIP
        (torch.Size([60000, 1, 28, 28]), 'MNIST train')
    """
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if name.startswith("folder:"):
        return load_image_folder(folder_split(name, split), use_cache=use_cache)
    key = name.lower()
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)} or 'folder:PATH'")
    classes = {"mnist": MNIST_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES}.get(key, CIFAR10_CLASSES)
    label = f"{CIFAR10_JPEG75_LABEL if key == 'cifar10-jpeg75' else DATASETS[key]} {split}"
    data_root = resolve_data_root(root, required=False)
    if data_root is None and use_cache:  # no data root: the whole split decoded earlier, if the cache has it
        found = _from_cache_only(key, split)
        if found is not None:
            return ImageTensors(*found, classes, label)
    if key == "cifar10-jpeg75":
        images, labels = load_cifar10_jpeg75(split, data_root, use_cache=use_cache)
        return ImageTensors(images, labels, CIFAR10_CLASSES, label)
    if data_root is None:
        if not download:
            resolve_data_root(root, required=True)  # raises: no data root, and no download allowed
        data_root = cache_dir() / "datasets"  # torchvision downloads into the cache
        data_root.mkdir(parents=True, exist_ok=True)
    if key in ("mnist", "fashion-mnist"):
        images, labels = _load_mnist_like(key, split, data_root, download, use_cache)
    else:
        images, labels = _load_cifar10(split, data_root, download, use_cache)
    return ImageTensors(images, labels, classes, label)


def folder_split(name: str | os.PathLike, split: str) -> Path:
    """The folder of ``split`` in a ``folder:PATH`` dataset: ``PATH/<split>`` if it exists (``PATH/val``
    also serves as the test split, ImageNet's layout), else ``PATH`` itself.

    >>> folder_split("folder:/nonexistent/pets", "test").as_posix()
    '/nonexistent/pets'
    """
    name = str(name)
    folder = Path(name[len("folder:"):] if name.startswith("folder:") else name).expanduser()
    for candidate in (split, "val") if split == "test" else (split,):
        if (folder / candidate).is_dir():
            return folder / candidate
    return folder


#: Images in each whole split: a tensor cache file is used without its source files only if it holds all of them.
_SPLIT_SIZES = {("mnist", "train"): 60000, ("mnist", "test"): 10000, ("fashion-mnist", "train"): 60000,
                ("fashion-mnist", "test"): 10000, ("cifar10-jpeg75", "train"): 50000, ("cifar10-jpeg75", "test"): 10000}


def _from_cache_only(key: str, split: str) -> tuple[Tensor, Tensor] | None:
    """A whole split already decoded into the tensor cache (from the real files, on an earlier run), for a
    caller that gave no data root: verified by its SHA-256 and its size, announced in one line. None if
    the cache has no such file."""
    expected = _SPLIT_SIZES.get((key, split))
    try:
        folder = cache_dir() / "tensors"
    except PermissionError:
        return None
    if expected is None or not folder.is_dir():
        return None
    for file in sorted(folder.glob(f"{key}-{split}-*.pt"), key=lambda f: f.stat().st_mtime, reverse=True):
        try:
            data = torch.load(file, map_location="cpu", weights_only=True)
            images, labels = data["images"], data["labels"]
        except Exception:
            continue
        if images.shape[0] == labels.shape[0] == expected and data.get("sha256") == _content_digest(images, labels):
            print(f"note: no data root given ({DATA_ROOT_ENV} is unset): using the {DATASETS[key]} {split} images "
                  f"decoded earlier into {file}")
            return images, labels
    return None


def _fingerprint(paths: Sequence[Path], *extra: object) -> str:
    """A short hash of file names, sizes and modification times (the cache key)."""
    digest = hashlib.sha1(repr(extra).encode())
    for path in sorted(paths):
        stat = path.stat()
        digest.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _content_digest(images: Tensor, labels: Tensor) -> str:
    """SHA-256 of the decoded tensors' bytes, stored with them and checked on every load."""
    digest = hashlib.sha256()
    for tensor in (images, labels):
        digest.update(f"{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()


def _cached(tag: str, sources: Sequence[Path], decode, use_cache: bool) -> tuple[Tensor, Tensor]:
    """Decoded ``(images, labels)`` from the tensor cache, or ``decode()`` and store them atomically.

    A cache file holds the tensors, the fingerprint of the files they were decoded from and a SHA-256
    of their bytes. A file that does not load, was made from other sources, or whose bytes no longer
    match their checksum (truncated, edited, replaced) is rebuilt from the sources, with a one-line
    notice. A cache folder that cannot be written costs the cache, not the result: the data are
    decoded and used without it, with a notice naming ``$PUSHPULL_CACHE``.
    """
    if not use_cache:
        return decode()
    fingerprint = _fingerprint(sources, tag)
    try:
        file = cache_dir() / "tensors" / f"{tag}-{fingerprint}.pt"
    except PermissionError as error:
        print(f"note: {error}; decoding {tag} without the cache")
        return decode()
    if file.is_file():
        problem = None
        try:
            data = torch.load(file, map_location="cpu", weights_only=True)
            images, labels = data["images"], data["labels"]
            if data.get("sources") != fingerprint or data.get("sha256") != _content_digest(images, labels):
                problem = "its checksum does not match its contents" if data.get("sources") == fingerprint \
                    else "it was not made from the current source files"
        except Exception as error:  # truncated, not a tensor file, wrong keys
            problem = f"it does not load ({type(error).__name__})"
        if problem is None:
            return images, labels
        print(f"note: the cached {tag} tensors {file} are damaged ({problem}); rebuilding them from "
              f"{', '.join(str(p) for p in sources)}")
    images, labels = decode()
    from .io import atomic_save

    try:
        atomic_save({"images": images, "labels": labels, "sources": fingerprint,
                     "sha256": _content_digest(images, labels)}, file)
    except OSError as error:
        print(f"note: cannot write the cache file {file} ({error.strerror}); continuing without the cache "
              f"(set {CACHE_ENV} to a writable folder)")
    return images, labels


def _unpacked(path: Path, folder: Path) -> Path:
    """A ``.gz`` file decompressed into ``folder`` (a temporary folder); a damaged archive is named, with
    what to do, and leaves nothing behind."""
    target = folder / path.stem
    try:
        with gzip.open(path, "rb") as source, open(target, "wb") as destination:
            shutil.copyfileobj(source, destination)
    except (OSError, EOFError, zlib.error) as error:
        raise OSError(f"{path} is damaged ({error}); replace it with a good copy of the file, or remove it and "
                      "let torchvision download the dataset (--download)") from None
    return target


_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _load_mnist_like(key: str, split: str, root: Path, download: bool, use_cache: bool) -> tuple[Tensor, Tensor]:
    """MNIST / Fashion-MNIST through torchvision. Raw files may be plain or ``.gz``; ``.gz``
    files are unpacked into the cache (the data root is never written to)."""
    from torchvision import datasets

    folder = "MNIST" if key == "mnist" else "FashionMNIST"
    cls = datasets.MNIST if key == "mnist" else datasets.FashionMNIST
    raw = root / folder / "raw"
    sources = []
    for base in _MNIST_FILES[split]:
        plain, packed = raw / base, raw / f"{base}.gz"
        sources.append(plain if plain.is_file() else packed)
    if all(path.is_file() for path in sources):
        def decode() -> tuple[Tensor, Tensor]:
            from torchvision.datasets.mnist import read_image_file, read_label_file

            # .gz files are unpacked into a temporary folder that is removed afterwards, whatever happens
            # (never into the data root); the decoded tensors are what the cache keeps
            with tempfile.TemporaryDirectory(prefix="pushpull-viz-") as scratch:
                files = [str(_unpacked(path, Path(scratch)) if path.suffix == ".gz" else path) for path in sources]
                try:
                    images, labels = read_image_file(files[0]), read_label_file(files[1])
                except (RuntimeError, ValueError, AssertionError) as error:
                    raise ValueError(f"{sources[0].parent}: the files {sources[0].name} / {sources[1].name} are "
                                     f"not valid MNIST files ({error}); replace them with good copies") from None
            if images.shape[0] != labels.shape[0]:
                raise ValueError(f"{sources[0]} holds {images.shape[0]} images but {sources[1]} {labels.shape[0]} "
                                 f"labels")
            return images.unsqueeze(1).contiguous(), labels.long()

        return _cached(f"{key}-{split}", sources, decode, use_cache)
    if not download:
        raise FileNotFoundError(
            f"{DATASETS[key]} not found under {raw} (expected {', '.join(_MNIST_FILES[split])}, plain or .gz): "
            + _NO_DATA_HINT
        )
    try:
        dataset = cls(str(root), train=split == "train", download=True)
    except Exception as error:
        raise RuntimeError(f"could not download {DATASETS[key]} into {root} ({error}): {_NO_DATA_HINT}") from None
    return dataset.data.unsqueeze(1).contiguous(), dataset.targets.long()


def _load_cifar10(split: str, root: Path, download: bool, use_cache: bool) -> tuple[Tensor, Tensor]:
    from torchvision import datasets

    folder = root / "cifar-10-batches-py"
    if not folder.is_dir() and not download:
        raise FileNotFoundError(
            f"CIFAR-10 not found under {folder} (the torchvision layout): {_NO_DATA_HINT}. "
            "The offline JPEG-75 copy is dataset 'cifar10-jpeg75'"
        )
    try:
        dataset = datasets.CIFAR10(str(root), train=split == "train", download=download)
    except Exception as error:
        raise RuntimeError(f"could not load CIFAR-10 from {root} ({error}): {_NO_DATA_HINT}") from error
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
    return images, torch.tensor(dataset.targets, dtype=torch.int64)


def load_cifar10_jpeg75(
    split: str = "test",
    root: str | os.PathLike | None = None,
    per_class: int | None = None,
    use_cache: bool = True,
) -> tuple[Tensor, Tensor]:
    """Read the offline JPEG-75 copy of CIFAR-10 (``cifar10-jpeg75/cifar10-jpeg75.zip``).

    This is *not* CIFAR-10: its images went through JPEG at quality 75, which acts as a
    mild corruption. Label numbers measured on it with :data:`CIFAR10_JPEG75_LABEL`.

    Args:
        split: ``"train"`` (50,000 images) or ``"test"`` (10,000).
        root: data root holding ``cifar10-jpeg75/`` (default ``$PUSHPULL_DATA``).
        per_class: keep the first ``per_class`` files (in name order) of each class.
        use_cache: keep the decoded split in :func:`cache_dir` (decoding 50,000 JPEGs takes a while).

    Returns:
        ``(images, labels)``: ``uint8 (N, 3, 32, 32)`` and ``int64 (N,)``, classes in the
        usual CIFAR-10 order, files in name order within a class.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if per_class is not None and (isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1):
        raise ValueError(f"per_class must be a positive integer or None, got {per_class!r}")
    archive = resolve_data_root(root) / "cifar10-jpeg75" / "cifar10-jpeg75.zip"
    if not archive.is_file():
        raise FileNotFoundError(f"{archive} not found: the data root must hold cifar10-jpeg75/cifar10-jpeg75.zip")

    def decode() -> tuple[Tensor, Tensor]:
        from PIL import Image

        images, labels = [], []
        with zipfile.ZipFile(archive) as zf:
            names = sorted(n for n in zf.namelist() if n.startswith(f"{split}/") and n.endswith(".jpg"))
            by_class: dict[str, list[str]] = {}
            for n in names:
                by_class.setdefault(n.split("/")[1], []).append(n)
            for label, cls in enumerate(CIFAR10_CLASSES):
                for name in by_class.get(cls, []):
                    with Image.open(io.BytesIO(zf.read(name))) as img:
                        images.append(np.asarray(img.convert("RGB")))
                labels += [label] * len(by_class.get(cls, []))
        batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
        return batch, torch.tensor(labels, dtype=torch.int64)

    images, labels = _cached(f"cifar10-jpeg75-{split}", [archive], decode, use_cache)
    if per_class is not None:
        keep = torch.cat([torch.nonzero(labels == c).flatten()[:per_class] for c in range(len(CIFAR10_CLASSES))])
        images, labels = images[keep], labels[keep]
    return images, labels


_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}


def load_image_folder(
    folder: str | os.PathLike,
    size: int | tuple[int, int] | None = None,
    grayscale: bool | None = None,
    use_cache: bool = True,
) -> ImageTensors:
    """Read a folder of class sub-folders (``folder/<class>/<image>``, torchvision's
    ``ImageFolder`` layout) into :class:`ImageTensors`, classes sorted by name.

    Args:
        size: resize every image to ``size`` (int for square); without it all images
            must already have the same size.
        grayscale: force 1 channel (``True``) or 3 (``False``); default: 1 if every image is
            grayscale, else 3.

    For data too large to hold in memory use :func:`folder_dataloader`.
    """
    from PIL import Image

    folder = Path(folder).expanduser()
    index = image_folder(folder)
    files = [Path(path) for path, _ in index.samples]
    if isinstance(size, int):
        size = (size, size)

    def decode() -> tuple[Tensor, Tensor]:
        pictures = []
        for path in files:
            with Image.open(path) as img:
                pictures.append(img.copy())
        gray = grayscale if grayscale is not None else all(p.mode in ("L", "1", "I;16") for p in pictures)
        arrays = []
        for path, picture in zip(files, pictures, strict=True):
            picture = picture.convert("L" if gray else "RGB")
            if size is not None:
                picture = picture.resize((size[1], size[0]), Image.BILINEAR)
            array = np.asarray(picture)
            if arrays and array.shape != arrays[0].shape:
                raise ValueError(
                    f"images in {folder} differ in size ({path.name}: {array.shape[:2]} vs {arrays[0].shape[:2]}); "
                    "pass size=... to resize them"
                )
            arrays.append(array)
        batch = torch.from_numpy(np.stack(arrays))
        batch = batch.unsqueeze(1) if batch.dim() == 3 else batch.permute(0, 3, 1, 2)
        return batch.contiguous(), torch.tensor([label for _, label in index.samples], dtype=torch.int64)

    images, labels = _cached(f"folder-{folder.name}", files, decode, use_cache and bool(files))
    return ImageTensors(images, labels, tuple(index.classes), f"{folder.name} (folder)")


#: ImageNet's usual test-time resize: the shorter side to ``image_size / 0.875`` (256 for 224), then a centre crop.
IMAGENET_RESIZE_RATIO = 0.875
FOLDER_PIPELINES = ("pad-crop", "imagenet")


def folder_dataloader(
    folder: str | os.PathLike,
    batch_size: int = 128,
    train: bool = True,
    crop_size: int | None = None,
    crop_padding: int = 4,
    flip: bool = True,
    num_workers: int = 2,
    seed: int = 0,
    pipeline: str = "pad-crop",
    image_size: int = 224,
    rank: int | None = None,
    world_size: int | None = None,
) -> EpochDataLoader:
    """The standard ``DataLoader`` path for large or custom data: torchvision ``ImageFolder``
    (``folder/<class>/<image>``) with PIL transforms in ``num_workers`` worker processes, batches of float
    images in [0, 1] (the models normalise inside). Shuffling and worker seeds are derived from ``seed``
    and the epoch (see :class:`EpochDataLoader`).

    Args:
        batch_size: the global batch size (shared out over the processes of a distributed run).
        pipeline: ``"pad-crop"`` (small images: a reflect-padded random crop of ``crop_size`` and a flip
            when ``train``, a centre crop otherwise) or ``"imagenet"`` (the usual ImageNet pipeline:
            ``RandomResizedCrop(image_size)`` and a flip when ``train``; the shorter side resized to
            ``image_size / 0.875`` and a centre crop of ``image_size`` otherwise).
        rank, world_size: the shard of a distributed run (default: this process's, see
            :func:`~pushpull_viz.distributed.world`).
    """
    from torchvision import transforms

    if pipeline not in FOLDER_PIPELINES:
        raise ValueError(f"pipeline must be one of {', '.join(FOLDER_PIPELINES)}, got {pipeline!r}")
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"image folder {Path(folder).resolve()} is not a directory")
    if pipeline == "imagenet":
        transform = imagenet_transform(train, image_size, flip)
    else:
        steps = []
        if train and crop_size is not None:
            steps.append(transforms.RandomCrop(crop_size, padding=crop_padding, padding_mode="reflect"))
        elif crop_size is not None:
            steps.append(transforms.CenterCrop(crop_size))
        if train and flip:
            steps.append(transforms.RandomHorizontalFlip())
        transform = transforms.Compose([*steps, transforms.ToTensor()])
    dataset = image_folder(folder, transform)
    return EpochDataLoader(dataset, batch_size=batch_size, shuffle=train, num_workers=num_workers, seed=seed,
                           rank=rank, world_size=world_size)


def imagenet_transform(train: bool, image_size: int = 224, flip: bool = True):
    """The usual ImageNet pipeline as torchvision transforms, ending in float images in [0, 1]: a random
    resized crop of ``image_size`` and a flip for training; for testing the shorter side resized to
    ``image_size / 0.875`` (256 for 224) and a centre crop, as ImageNet-C's images were made."""
    from torchvision import transforms

    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
        raise ValueError(f"image_size must be an integer >= 8, got {image_size!r}")
    if train:
        steps = [transforms.RandomResizedCrop(image_size, antialias=True)]
        steps += [transforms.RandomHorizontalFlip()] if flip else []
    else:
        steps = [transforms.Resize(round(image_size / IMAGENET_RESIZE_RATIO), antialias=True),
                 transforms.CenterCrop(image_size)]
    return transforms.Compose([*steps, transforms.ToTensor()])


def image_folder(folder: str | os.PathLike, transform=None):
    """torchvision ``ImageFolder`` over ``folder/<class>/<image>`` (image files only; classes sorted by name)."""
    from torchvision import datasets

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder.resolve()} is not a directory")
    try:
        return datasets.ImageFolder(str(folder), transform=transform,
                                    is_valid_file=lambda p: Path(p).suffix.lower() in _IMAGE_SUFFIXES)
    except (FileNotFoundError, RuntimeError) as error:
        raise FileNotFoundError(f"{folder} must hold one sub-folder of images per class: {error}") from error


class _SeededItems:
    """Wraps a dataset so that the random transforms of item ``i`` draw from a seed fixed by
    ``(seed, epoch, i)``, in the main process and in workers alike."""

    def __init__(self, dataset, seed: int) -> None:
        self.dataset, self.seed, self.epoch = dataset, seed, 0

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_epoch_seed(self.seed * 7 + index, self.epoch))
            return self.dataset[index]


class EpochDataLoader:
    """A ``torch.utils.data.DataLoader`` whose shuffle order and augmentation depend only on
    ``(seed, epoch)``: call :meth:`set_epoch` before iterating, so a resumed run sees the
    same batches as an uninterrupted one.

    ``batch_size`` is the global batch. Under several processes (default: this process's
    :func:`~pushpull_viz.distributed.world`) each rank loads ``batch_size / world_size`` images per step:
    for training through a ``DistributedSampler`` (which repeats a few images so that every rank gets as
    many), for evaluation through every ``world_size``-th image, so that each image is counted once.
    """

    def __init__(self, dataset, batch_size: int, shuffle: bool, num_workers: int = 0, seed: int = 0,
                 rank: int | None = None, world_size: int | None = None) -> None:
        from torch.utils.data import DataLoader, DistributedSampler, Subset

        here = world()
        self.rank = here[0] if rank is None else rank
        self.world_size = here[1] if world_size is None else world_size
        self.dataset, self.seed, self.epoch = dataset, seed, 0
        self.items = _SeededItems(dataset, seed)
        self.generator = torch.Generator()
        self.sampler = None
        pin = torch.cuda.is_available()
        if self.world_size == 1:
            self.loader = DataLoader(self.items, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers,
                                     generator=self.generator, pin_memory=pin)
        elif shuffle:
            self.sampler = DistributedSampler(self.items, self.world_size, self.rank, shuffle=True, seed=seed)
            self.loader = DataLoader(self.items, batch_size=local_batch_size(batch_size, self.world_size),
                                     sampler=self.sampler, num_workers=num_workers, pin_memory=pin)
        else:
            shard = Subset(self.items, range(self.rank, len(self.items), self.world_size))
            self.loader = DataLoader(shard, batch_size=-(-batch_size // self.world_size), num_workers=num_workers,
                                     pin_memory=pin)
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        root = getattr(self.dataset, "root", None)
        return f"{Path(root).name} (folder)" if root else type(self.dataset).__name__

    def set_epoch(self, epoch: int) -> None:
        self.epoch = self.items.epoch = epoch
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        self.generator.manual_seed(_epoch_seed(self.seed, self.epoch))
        return iter(self.loader)


# ------------------------------------------------------------------------------ augmentation


def _epoch_seed(seed: int, epoch: int) -> int:
    return (int(seed) * 1_000_003 + int(epoch) * 7919 + 12345) % (2**63 - 1)


def _reflect(index: Tensor, size: int) -> Tensor:
    """Reflect indices into ``[0, size)`` like ``F.pad(mode="reflect")`` (edge not repeated)."""
    if size == 1:
        return torch.zeros_like(index)
    period = 2 * (size - 1)
    index = index.remainder(period)
    return torch.where(index >= size, period - index, index)


def random_crop_flip(
    images: Tensor,
    padding: int = 4,
    flip: bool = True,
    generator: torch.Generator | None = None,
    padding_mode: str = "reflect",
) -> Tensor:
    """Random crops of the padded images (same size as the input) and random horizontal flips,
    for a whole batch at once, on the batch's device and in its dtype (uint8 works).

    The padding is never materialised: each output pixel gathers its source pixel through
    reflected (or, for ``padding_mode="zeros"``, masked) indices. Equivalent per image to
    torchvision's ``RandomCrop(size, padding, padding_mode=...)`` then ``RandomHorizontalFlip()``.

    Args:
        images: ``(N, C, H, W)``, any dtype and device.
        padding: pixels of padding on each side (the crop offset is drawn from ``0..2*padding``).
        flip: flip each image left-right with probability 1/2.
        generator: a CPU ``torch.Generator`` for reproducible draws.
        padding_mode: ``"reflect"`` (the paper's CIFAR augmentation) or ``"zeros"``.

    Shape:
        - Input: ``(N, C, H, W)``. Output: the same.

    Example:
        >>> x = torch.arange(16, dtype=torch.uint8).reshape(1, 1, 4, 4)
        >>> random_crop_flip(x, padding=0, flip=False).equal(x)
        True
    """
    if images.dim() != 4:
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be a non-negative integer, got {padding!r}")
    if padding_mode not in ("reflect", "zeros"):
        raise ValueError(f"padding_mode must be 'reflect' or 'zeros', got {padding_mode!r}")
    n, _, height, width = images.shape
    if padding_mode == "reflect" and padding >= min(height, width):
        raise ValueError(f"reflect padding {padding} must be smaller than the image size {height}x{width}")
    if n == 0:
        return images.clone()
    return _crop_flip(images, *_crop_flip_draws(n, padding, flip, generator), padding, padding_mode)


def _crop_flip_draws(n: int, padding: int, flip: bool, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
    """The random draws of :func:`random_crop_flip` for ``n`` images: crop offsets ``(2, n)`` and flips ``(n,)``."""
    offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5 if flip else torch.zeros(n, dtype=torch.bool)
    return offsets, flips


def _crop_flip(images: Tensor, offsets: Tensor, flips: Tensor, padding: int, padding_mode: str = "reflect") -> Tensor:
    """Apply drawn crop offsets and flips (see :func:`random_crop_flip`) to ``images``."""
    n, _, height, width = images.shape
    device = images.device
    offsets, flips = offsets.to(device), flips.to(device)
    rows = offsets[0, :, None] - padding + torch.arange(height, device=device)  # (N, H) source rows
    cols = offsets[1, :, None] - padding + torch.arange(width, device=device)  # (N, W)
    cols = torch.where(flips[:, None], cols.flip(1), cols)
    if padding_mode == "reflect":
        inside = None
        rows, cols = _reflect(rows, height), _reflect(cols, width)
    else:
        inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]
        rows, cols = rows.clamp(0, height - 1), cols.clamp(0, width - 1)
    batch = torch.arange(n, device=device)[:, None, None, None]
    channel = torch.arange(images.shape[1], device=device)[None, :, None, None]
    out = images[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]
    if inside is not None:
        out = out * inside[:, None].to(out.dtype)
    return out


@dataclass
class TensorLoader:
    """Batches of an :class:`ImageTensors` made on the training device.

    The uint8 images are moved to ``device`` once; each batch is drawn by a shuffled index,
    augmented there (:func:`random_crop_flip`) and converted to float in [0, 1]. Shuffle
    order and augmentation depend only on ``(seed, epoch)`` (:meth:`set_epoch`), so a run
    resumed at an epoch boundary sees exactly the batches an uninterrupted one would.

    Args:
        data: the images and labels.
        batch_size: images per batch.
        shuffle: draw a new permutation each epoch.
        crop_padding: random-crop padding (0 turns cropping off).
        flip: random horizontal flips.
        device: where the images live and batches are made.
        seed: base seed of shuffling and augmentation.
        drop_last: skip the last, smaller batch.
        channels_last: return batches in channels_last memory format.
        rank, world_size: under several processes (:mod:`~pushpull_viz.distributed`), ``batch_size`` is the
            global batch: every rank draws the same permutation and augmentation for it and keeps its own
            contiguous share (:func:`~pushpull_viz.distributed.share_of_batch`), so any number of processes
            trains on the same stream of batches. A last global batch smaller than ``world_size`` is dropped.

    Example:
        >>> data = ImageTensors(torch.zeros(10, 1, 8, 8, dtype=torch.uint8), torch.arange(10), tuple("0123456789"))
        >>> [tuple(x.shape) for x, y in TensorLoader(data, batch_size=4)]
        [(4, 1, 8, 8), (4, 1, 8, 8), (2, 1, 8, 8)]
    """

    data: ImageTensors
    batch_size: int = 128
    shuffle: bool = False
    crop_padding: int = 0
    flip: bool = False
    device: str | torch.device = "cpu"
    seed: int = 0
    drop_last: bool = False
    channels_last: bool = False
    rank: int = 0
    world_size: int = 1
    epoch: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if not (isinstance(self.world_size, int) and self.world_size >= 1 and 0 <= self.rank < self.world_size):
            raise ValueError(f"rank and world_size must satisfy 0 <= rank < world_size, got {self.rank!r} and "
                             f"{self.world_size!r}")
        if self.world_size > self.batch_size:
            raise ValueError(f"batch_size {self.batch_size} is smaller than the number of processes "
                             f"{self.world_size}: every process needs at least one image per batch")
        if isinstance(self.crop_padding, bool) or not isinstance(self.crop_padding, int) or self.crop_padding < 0:
            raise ValueError(f"crop_padding must be a non-negative integer, got {self.crop_padding!r}")
        height, width = self.data.images.shape[-2:]
        if self.crop_padding >= min(height, width):
            raise ValueError(f"reflect padding {self.crop_padding} must be smaller than the image size "
                             f"{height}x{width}")
        self.device = torch.device(self.device)
        self.images = self.data.images.to(self.device)
        self.labels = self.data.labels.to(self.device)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        full, rest = divmod(len(self.data), self.batch_size)
        return full + (rest > 0 and not self.drop_last and rest >= self.world_size)

    def global_batch_size(self, step: int) -> int:
        """Images in global batch ``step`` (over all ranks)."""
        return min(self.batch_size, len(self.data) - step * self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        generator = torch.Generator().manual_seed(_epoch_seed(self.seed, self.epoch))
        n = len(self.data)
        order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
        order = order.to(self.device)
        augment = self.crop_padding > 0 or self.flip
        for i in range(len(self)):
            index = order[i * self.batch_size:(i + 1) * self.batch_size]
            # drawn for the whole global batch, so every rank's share is augmented as one process would
            draws = _crop_flip_draws(len(index), self.crop_padding, self.flip, generator) if augment else None
            start, stop = share_of_batch(len(index), self.rank, self.world_size)
            index = index[start:stop]
            images = self.images[index]
            if draws is not None:
                images = _crop_flip(images, draws[0][:, start:stop], draws[1][start:stop], self.crop_padding)
            images = images.float().div_(255)
            if self.channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            yield images, self.labels[index]
