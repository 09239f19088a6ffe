"""The RELEASED CIFAR-10-C and MNIST-C files: loaders and a download helper.

Next to the corruptions generated on the fly (:func:`~pushpull_viz.corruptions.corrupt`),
a model can be evaluated on the official files, for a deterministic comparison with
published results.

* **CIFAR-10-C** (Hendrycks & Dietterich 2019; Zenodo record 2535967, CC BY 4.0):
  ``CIFAR-10-C/<corruption>.npy``, each ``uint8 (50000, 32, 32, 3)`` where rows
  ``[(s-1)*10000, s*10000)`` are severity ``s``, plus ``labels.npy`` ``(50000,)`` (the
  10000 CIFAR-10 test labels repeated 5 times). 19 corruptions, severities 1..5; test
  images only, no clean copy.
* **MNIST-C** (Mu & Gilmer 2019; Zenodo record 3239543, CC BY 4.0):
  ``mnist_c/<corruption>/{train,test}_{images,labels}.npy``, images ``uint8 (N, 28, 28, 1)``,
  labels ``(N,)``. 15 corruptions with one fixed severity each; ``identity`` is the clean set.

:func:`open_released` reads either layout with ``np.load(mmap_mode="r")``, so asking for
one severity reads only its 10000 rows. :func:`download_released` fetches, verifies and
unpacks the archives (resumable, idempotent).

Example:
    >>> import shutil, tempfile
    >>> import numpy as np
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("fog", "identity"):   # a tiny stand-in for mnist_c.zip, extracted
    ...     (root / "mnist_c" / name).mkdir(parents=True)
    ...     np.save(root / "mnist_c" / name / "test_images.npy", np.zeros((3, 28, 28, 1), np.uint8))
    ...     np.save(root / "mnist_c" / name / "test_labels.npy", np.array([7, 2, 1]))
    >>> suite = open_released(root, "mnist-c")
    >>> suite.corruptions, suite.severities, suite.has_clean
    (('fog',), (1,), True)
    >>> x = suite.images("fog")
    >>> x.shape, x.dtype, suite.labels("fog").tolist()
    (torch.Size([3, 1, 28, 28]), torch.uint8, [7, 2, 1])
    >>> del suite, x; shutil.rmtree(root)
"""

from __future__ import annotations

import difflib
import hashlib
import http.client
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..data import CIFAR10_CLASSES, MNIST_CLASSES, ImageTensors
from .cifar10c import CIFAR10C_ALL
from .released_folders import ReleasedImageFolders

__all__ = [
    "CIFAR10C_IMAGES_PER_SEVERITY",
    "MNISTC_ALL",
    "RELEASED_ARCHIVES",
    "RELEASED_SUITES",
    "ReleasedArchive",
    "ReleasedSuite",
    "download_released",
    "open_released",
]

#: The suites :func:`open_released` and :func:`download_released` know.
RELEASED_SUITES = ("cifar10-c", "mnist-c")
#: Test images per severity in each CIFAR-10-C file (read at call time, so tests can shrink it).
CIFAR10C_IMAGES_PER_SEVERITY = 10_000
#: The 15 MNIST-C corruptions (Mu & Gilmer 2019, Table 1 order); the zip also holds ``identity``.
MNISTC_ALL = (
    "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
    "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges",
)
MNISTC_CLEAN = "identity"
_SPLITS = {"cifar10-c": ("test",), "mnist-c": ("train", "test")}
_SEVERITIES = {"cifar10-c": (1, 2, 3, 4, 5), "mnist-c": (1,)}
_IMAGE_SHAPE = {"cifar10-c": (32, 32, 3), "mnist-c": (28, 28, 1)}  # per image, as stored (H, W, C)
_LABEL = {"cifar10-c": "CIFAR-10-C", "mnist-c": "MNIST-C"}
_CLASSES = {"cifar10-c": CIFAR10_CLASSES, "mnist-c": MNIST_CLASSES}


@dataclass(frozen=True)
class ReleasedArchive:
    """Where a released archive lives and how to check it.

    Attributes:
        url: the download address (Zenodo).
        filename: the archive's name.
        folder: the top-level folder it unpacks to.
        md5: its MD5, checked after download.
        size: its size in bytes (checked first: a cheap early test).
    """

    url: str
    filename: str
    folder: str
    md5: str
    size: int


RELEASED_ARCHIVES = {
    # URL: Zenodo record 2535967 (https://zenodo.org/records/2535967), file CIFAR-10-C.tar.
    # md5: 56bf5dcef84df0e2308c6dcbcbbd8499, as recorded in ENSTA-U2IS-AI/torch-uncertainty
    #   (torch_uncertainty/datasets/classification/cifar/cifar_c.py, CIFAR10C.tgz_md5) and in several other
    #   loaders that cite the Zenodo listing; not checked against the file itself here (no internet).
    # size: 2918471680 bytes, from tensorflow/datasets tensorflow_datasets/url_checksums/cifar10_corrupted.txt
    #   (which also records sha256 c72763e101c723b7c507b96205f7e938912a5d587376173b825850cf3cb876a7).
    "cifar10-c": ReleasedArchive(
        url="https://zenodo.org/records/2535967/files/CIFAR-10-C.tar?download=1",
        filename="CIFAR-10-C.tar",
        folder="CIFAR-10-C",
        md5="56bf5dcef84df0e2308c6dcbcbbd8499",
        size=2_918_471_680,
    ),
    # URL: Zenodo record 3239543 (https://zenodo.org/records/3239543), file mnist_c.zip.
    # md5: 4b34b33045869ee6d424616cd3a65da3, as recorded in ENSTA-U2IS-AI/torch-uncertainty
    #   (torch_uncertainty/datasets/classification/mnist_c.py, MNISTC.zip_md5) and in aria-ml/dataeval's MNIST
    #   loader (DataLocation(..., md5=True, checksum=...)); not checked against the file itself here.
    # size: 246661575 bytes, from tensorflow/datasets tensorflow_datasets/url_checksums/mnist_corrupted.txt
    #   (sha256 af9ee8c6a815870c7fdde5af84c7bf8db0bcfa1f41056db83871037fba70e493).
    "mnist-c": ReleasedArchive(
        url="https://zenodo.org/records/3239543/files/mnist_c.zip?download=1",
        filename="mnist_c.zip",
        folder="mnist_c",
        md5="4b34b33045869ee6d424616cd3a65da3",
        size=246_661_575,
    ),
}


def _suite_name(suite: str, folders: bool = False) -> str:
    key = re.sub(r"[-_ ]", "", str(suite).lower())
    aliases = {"cifar10c": "cifar10-c", "mnistc": "mnist-c", **({"imagenetc": "imagenet-c"} if folders else {})}
    if key not in aliases:
        known = (*RELEASED_SUITES, "imagenet-c") if folders else RELEASED_SUITES
        raise ValueError(f"suite must be one of {', '.join(map(repr, known))}, got {suite!r}")
    return aliases[key]


def _layout(suite: str) -> str:
    if suite == "cifar10-c":
        n = CIFAR10C_IMAGES_PER_SEVERITY
        return (f"<corruption>.npy files (uint8, shape ({5 * n}, 32, 32, 3)) and labels.npy ({5 * n},) "
                "directly in the folder, or in its CIFAR-10-C/ sub-folder")
    return ("<corruption>/{train,test}_{images,labels}.npy (images uint8 (N, 28, 28, 1), labels (N,)) "
            "directly in the folder, or in its mnist_c/ sub-folder")


def _not_found(root: Path, suite: str, problem: str) -> FileNotFoundError:
    archive = RELEASED_ARCHIVES[suite]
    return FileNotFoundError(
        f"{problem}; expected the released {_LABEL[suite]} layout: {_layout(suite)}. Get it with "
        f"pushpull_viz.corruptions.download_released({suite!r}, {str(root)!r}), or download {archive.url} "
        f"by hand and extract it into {root}"
    )


def _looks_like(folder: Path, suite: str) -> bool:
    if not folder.is_dir():
        return False
    if suite == "cifar10-c":
        return (folder / "labels.npy").is_file() or any((folder / f"{c}.npy").is_file() for c in CIFAR10C_ALL)
    return any(sub.is_dir() and any(sub.glob("*_images.npy")) for sub in folder.iterdir())


def _locate(root: str | os.PathLike, suite: str) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise _not_found(root, suite, f"root {str(root)!r} is not a directory")
    for folder in (root, root / RELEASED_ARCHIVES[suite].folder):
        if _looks_like(folder, suite):
            return folder
    raise _not_found(root, suite, f"no {_LABEL[suite]} files in {root} or {root / RELEASED_ARCHIVES[suite].folder}")


def _ordered(names: set[str], known: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for n in known if n in names) + tuple(sorted(names - set(known)))


class ReleasedSuite:
    """The released files of one suite (and one split), read lazily with memory maps.

    Open it with :func:`open_released`. Files are checked (dtype, shape, matching labels)
    the first time they are used; a corruption's images are copied out of the memory map
    only for the severity asked for.

    Attributes:
        suite: ``"cifar10-c"`` or ``"mnist-c"``.
        folder: the folder holding the files.
        split: ``"test"`` (MNIST-C also ``"train"``).
        corruptions: the corruptions present, in the published order (others after, sorted).
        severities: ``(1, 2, 3, 4, 5)`` for CIFAR-10-C, ``(1,)`` for MNIST-C.
        classes: the class names (CIFAR-10's, or the digits).

    Shape:
        - :meth:`images`: ``uint8 (N, C, H, W)``; ``C = 3, H = W = 32`` (CIFAR-10-C),
          ``C = 1, H = W = 28`` (MNIST-C); ``N = 10000`` per CIFAR-10-C severity.
        - :meth:`labels`: ``int64 (N,)``.
    """

    def __init__(self, folder: str | os.PathLike, suite: str, split: str = "test") -> None:
        self.suite = _suite_name(suite)
        self.folder = Path(folder)
        if split not in _SPLITS[self.suite]:
            why = " (the release holds test images only)" if self.suite == "cifar10-c" else ""
            raise ValueError(f"split must be {' or '.join(map(repr, _SPLITS[self.suite]))} for {self.suite}{why}, "
                             f"got {split!r}")
        self.split = split
        self.severities: tuple[int, ...] = _SEVERITIES[self.suite]
        self.classes: tuple[str, ...] = _CLASSES[self.suite]
        self._arrays: dict[Path, np.ndarray] = {}
        if not _looks_like(self.folder, self.suite):
            raise _not_found(self.folder, self.suite, f"no {_LABEL[self.suite]} files in {self.folder}")
        if self.suite == "cifar10-c":
            names = {p.stem for p in self.folder.glob("*.npy") if p.name != "labels.npy"}
            if not (self.folder / "labels.npy").is_file():
                raise FileNotFoundError(
                    f"labels missing: {self.folder / 'labels.npy'} does not exist (CIFAR-10-C ships one labels.npy "
                    "beside the corruption files, shared by all of them); re-extract CIFAR-10-C.tar"
                )
        else:
            names = {p.parent.name for p in self.folder.glob(f"*/{split}_images.npy")} - {MNISTC_CLEAN}
        self.corruptions: tuple[str, ...] = _ordered(names, CIFAR10C_ALL if self.suite == "cifar10-c" else MNISTC_ALL)
        if not self.corruptions:
            raise _not_found(self.folder, self.suite, f"no {split} corruption files in {self.folder}")

    def __repr__(self) -> str:
        return (f"ReleasedSuite({self.suite!r}, folder={str(self.folder)!r}, split={self.split!r}, "
                f"{len(self.corruptions)} corruptions, severities {self.severities[0]}..{self.severities[-1]})")

    @property
    def has_clean(self) -> bool:
        """Whether the clean images are in the release (MNIST-C's ``identity``; CIFAR-10-C has none)."""
        return self.suite == "mnist-c" and (self.folder / MNISTC_CLEAN / f"{self.split}_images.npy").is_file()

    # ------------------------------------------------------------------ public reads

    def images(self, corruption: str, severity: int | None = None) -> Tensor:
        """The images of one corruption at one severity: ``uint8 (N, C, H, W)``.

        Args:
            corruption: one of :attr:`corruptions`.
            severity: one of :attr:`severities`; may be left out for MNIST-C (its one severity).
        """
        self._check_corruption(corruption)
        return self._image_block(self._image_path(corruption), self._severity(severity))

    def labels(self, corruption: str, severity: int | None = None) -> Tensor:
        """The labels of :meth:`images` ``(corruption, severity)``: ``int64 (N,)``."""
        self._check_corruption(corruption)
        return self._label_block(self._label_path(corruption), self._severity(severity),
                                 self._rows(self._image_path(corruption)))

    def load(self, corruption: str, severity: int | None = None) -> ImageTensors:
        """:meth:`images` and :meth:`labels` together, named e.g. ``"CIFAR-10-C fog s3 (released)"``."""
        severity = self._severity(severity)
        name = f"{_LABEL[self.suite]} {corruption}"
        name += f" s{severity}" if self.suite == "cifar10-c" else f" {self.split}"
        return ImageTensors(self.images(corruption, severity), self.labels(corruption, severity), self.classes,
                            f"{name} (released)")

    def clean(self) -> ImageTensors:
        """The clean images of the release: MNIST-C's ``identity`` folder (for this split).

        CIFAR-10-C has no clean copy: use ``pushpull_viz.data.load_dataset("cifar10", "test")``.
        """
        if self.suite == "cifar10-c":
            raise ValueError("CIFAR-10-C has no clean images; use pushpull_viz.data.load_dataset('cifar10', 'test') "
                             "(the same 10000 test images, in the same order)")
        folder = self.folder / MNISTC_CLEAN
        if not self.has_clean:
            expected = folder / f"{self.split}_images.npy"
            raise FileNotFoundError(f"the clean MNIST-C set is missing: expected {expected} "
                                    "(the identity/ folder of mnist_c.zip)")
        images = self._image_block(folder / f"{self.split}_images.npy", 1)
        labels = self._label_block(folder / f"{self.split}_labels.npy", 1, images.shape[0])
        return ImageTensors(images, labels, self.classes, f"MNIST-C identity {self.split} (released)")

    # ------------------------------------------------------------------ checks and reads

    def _check_corruption(self, corruption: str) -> None:
        if corruption in self.corruptions:
            return
        present = ", ".join(self.corruptions)
        if self.suite == "mnist-c" and corruption == MNISTC_CLEAN:
            raise ValueError(f"{MNISTC_CLEAN!r} is the clean MNIST-C set: use .clean(). Corruptions present: {present}")
        known = CIFAR10C_ALL if self.suite == "cifar10-c" else MNISTC_ALL
        if corruption in known:
            where = f"{corruption}.npy" if self.suite == "cifar10-c" else f"{corruption}/{self.split}_images.npy"
            raise FileNotFoundError(f"corruption {corruption!r} is not in {self.folder} (no {where}); "
                                    f"present: {present}")
        close = difflib.get_close_matches(str(corruption), list(self.corruptions) + list(known), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown {self.suite} corruption {corruption!r}.{hint} Present in {self.folder}: {present}")

    def _severity(self, severity: int | None) -> int:
        if severity is None and len(self.severities) == 1:
            return self.severities[0]
        if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or severity not in self.severities:
            if len(self.severities) == 1:
                raise ValueError(f"severity must be 1 for {self.suite} (one fixed severity per corruption), "
                                 f"got {severity!r}")
            raise ValueError(f"severity must be an integer in {self.severities[0]}..{self.severities[-1]} "
                             f"for {self.suite}, got {severity!r}")
        return int(severity)

    def _image_path(self, corruption: str) -> Path:
        if self.suite == "cifar10-c":
            return self.folder / f"{corruption}.npy"
        return self.folder / corruption / f"{self.split}_images.npy"

    def _label_path(self, corruption: str) -> Path:
        if self.suite == "cifar10-c":
            return self.folder / "labels.npy"
        return self.folder / corruption / f"{self.split}_labels.npy"

    def _open(self, path: Path) -> np.ndarray:
        if path not in self._arrays:
            if not path.is_file():
                raise FileNotFoundError(f"{path} does not exist")
            try:
                self._arrays[path] = np.load(path, mmap_mode="r", allow_pickle=False)
            except (ValueError, OSError, EOFError) as error:
                raise ValueError(f"{path} is not a readable .npy array ({error})") from error
        return self._arrays[path]

    def _expected_rows(self) -> int | None:
        return 5 * CIFAR10C_IMAGES_PER_SEVERITY if self.suite == "cifar10-c" else None

    def _rows(self, path: Path) -> int:
        """Check an image file's dtype and shape; return its row count."""
        array = self._open(path)
        rows, tail = self._expected_rows(), _IMAGE_SHAPE[self.suite]
        ok = array.dtype == np.uint8 and array.ndim == 4 and array.shape[1:] == tail
        if ok and rows is not None:
            ok = array.shape[0] == rows
        if not ok:
            if self.suite == "cifar10-c":
                n = CIFAR10C_IMAGES_PER_SEVERITY
                expected = (f"uint8 of shape ({rows}, 32, 32, 3) (5 severities x {n} images; rows "
                            f"[(s-1)*{n}, s*{n}) are severity s)")
            else:
                expected = "uint8 of shape (N, 28, 28, 1)"
            raise ValueError(f"{path} must be {expected}, got {array.dtype} {tuple(array.shape)}")
        return array.shape[0]

    def _block(self, severity: int, rows: int) -> slice:
        n = rows // len(self.severities)
        return slice((severity - 1) * n, severity * n)

    def _image_block(self, path: Path, severity: int) -> Tensor:
        rows = self._rows(path)
        block = np.array(self._open(path)[self._block(severity, rows)])  # reads only these rows
        return torch.from_numpy(block).permute(0, 3, 1, 2).contiguous()

    def _label_block(self, path: Path, severity: int, rows: int) -> Tensor:
        if not path.is_file():
            raise FileNotFoundError(f"labels missing: {path} does not exist (expected {rows} integer labels)")
        array = self._open(path)
        if not np.issubdtype(array.dtype, np.integer) or array.shape != (rows,):
            raise ValueError(f"{path} must hold integer labels of shape ({rows},) (one per image row), "
                             f"got {array.dtype} {tuple(array.shape)}")
        labels = torch.from_numpy(np.array(array[self._block(severity, rows)], dtype=np.int64))
        if labels.numel() and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise ValueError(f"{path} holds labels outside 0..{len(self.classes) - 1} "
                             f"(found {labels.min().item()}..{labels.max().item()})")
        return labels


def open_released(root: str | os.PathLike, suite: str, split: str = "test") -> ReleasedSuite | ReleasedImageFolders:
    """Open the released CIFAR-10-C or MNIST-C files, or the ImageNet-C folders.

    Args:
        root: the folder holding the files, or its parent (the folder the archive was
            extracted into: ``root/CIFAR-10-C/`` or ``root/mnist_c/`` is found too). For ImageNet-C,
            the folder the tar files were extracted into (:class:`ReleasedImageFolders`).
        suite: ``"cifar10-c"``, ``"mnist-c"`` or ``"imagenet-c"``.
        split: ``"test"``; MNIST-C also has ``"train"``.

    Raises:
        FileNotFoundError: no such layout under ``root`` (the message says how to download it),
            or CIFAR-10-C's ``labels.npy`` is missing.
        ValueError: unknown suite or split.

    See the module docstring for an example.
    """
    suite = _suite_name(suite, folders=True)
    if suite == "imagenet-c":
        if split != "test":
            raise ValueError(f"split must be 'test' for imagenet-c (the release corrupts the validation images), "
                             f"got {split!r}")
        return ReleasedImageFolders(root)
    return ReleasedSuite(_locate(root, suite), suite, split)


# ---------------------------------------------------------------------------- download

#: Opens URLs for :func:`download_released` (a module attribute, so tests can substitute it).
_urlopen = urllib.request.urlopen
_RETRYABLE = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.IncompleteRead)


def _expected_files(suite: str) -> list[str]:
    if suite == "cifar10-c":
        return [f"{c}.npy" for c in CIFAR10C_ALL] + ["labels.npy"]
    return [f"{c}/{s}_{k}.npy" for c in MNISTC_ALL + (MNISTC_CLEAN,) for s in ("train", "test")
            for k in ("images", "labels")]


def _md5(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _content_range_start(value: str | None) -> int | None:
    match = re.match(r"bytes\s+(\d+)-", value or "")
    return int(match.group(1)) if match else None


def _fetch(url: str, part: Path, size: int | None, progress: bool, timeout: float) -> None:
    """Download ``url`` into ``part``, continuing an existing ``part`` with an HTTP Range request
    when the server honours it (206 with a matching Content-Range), starting over otherwise."""
    from tqdm.auto import tqdm

    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset == size:
        return  # complete already: verification decides
    if size is not None and offset > size:
        offset = 0  # not this archive: start over (the "wb" below truncates it)
    headers = {"User-Agent": "pushpull-viz"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = _urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing left to send: verification decides
            return
        raise
    with response:
        status = getattr(response, "status", None)
        resumed = offset > 0 and status == 206 and _content_range_start(response.headers.get("Content-Range")) == offset
        start = offset if resumed else 0
        length = response.headers.get("Content-Length")
        total = start + int(length) if length is not None else size
        with open(part, "ab" if resumed else "wb") as out, tqdm(
            total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024, desc=part.name[:-5],
            disable=not progress, leave=False,
        ) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
    if total is not None and part.stat().st_size < total:
        raise ConnectionError(f"the connection closed after {part.stat().st_size} of {total} bytes")


def _check_member(name: str, staging: Path, archive: Path, root: Path) -> None:
    target = (staging / name).resolve()
    if Path(name).is_absolute() or name.startswith(("/", "\\")) or not target.is_relative_to(staging.resolve()):
        raise ValueError(f"refusing to extract {archive}: member {name!r} would land outside {root}")


def _extract(archive: Path, root: Path, folder: str) -> Path:
    """Unpack ``archive`` into a hidden staging folder in ``root``, then rename its ``folder``
    into place, so ``root/folder`` appears complete or not at all."""
    staging = Path(tempfile.mkdtemp(prefix=f".{folder}.extracting-", dir=root))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    _check_member(name, staging, archive, root)
                zf.extractall(staging)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive, "r:*") as tf:
                members = tf.getmembers()
                for member in members:
                    _check_member(member.name, staging, archive, root)
                    if not (member.isfile() or member.isdir()):
                        raise ValueError(f"refusing to extract {archive}: member {member.name!r} is a link or "
                                         "special file")
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(staging, members=members, filter="data")
                else:  # Python without extraction filters: the checks above stand in for them
                    tf.extractall(staging, members=members)
        else:
            raise ValueError(f"{archive} is neither a tar nor a zip archive")
        unpacked = staging / folder
        if not unpacked.is_dir():
            found = ", ".join(sorted(p.name for p in staging.iterdir())) or "nothing"
            raise ValueError(f"{archive} should unpack to a {folder}/ folder, found: {found}")
        os.replace(unpacked, root / folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root / folder


def download_released(
    suite: str,
    root: str | os.PathLike,
    progress: bool = True,
    *,
    url: str | None = None,
    md5: str | None = None,
    keep_archive: bool = False,
    retries: int = 3,
    timeout: float = 60.0,
) -> Path:
    """Download, verify and unpack the released CIFAR-10-C (2.9 GB) or MNIST-C (250 MB) archive.

    Steps, each skipped when already done: if ``root/CIFAR-10-C`` (``root/mnist_c``) already
    holds every released file, nothing is downloaded. Otherwise the archive is downloaded
    to ``root/<archive>.part`` with a tqdm bar; an interrupted download continues where it
    stopped (HTTP Range, when the server allows; else it starts over), up to ``retries``
    times per call and across calls. The file is checked (size, then MD5) and renamed to
    ``root/<archive>``, unpacked into a hidden staging folder (refusing members that would
    land outside ``root``, links and special files) and renamed into place. The archive is
    then deleted unless ``keep_archive``.

    Args:
        suite: ``"cifar10-c"`` or ``"mnist-c"``.
        root: where the archive goes and is unpacked (created if missing).
        progress: show a progress bar.
        url: another address for the same archive (a mirror); default: Zenodo.
        md5: the MD5 to expect (with ``url``, for another copy); default: the published one.
            When given, the size check is skipped.
        keep_archive: keep the verified archive after unpacking.
        retries: extra attempts after a dropped connection (each resumes the ``.part``).
        timeout: seconds to wait for the server.

    Returns:
        The unpacked folder, ready for :func:`open_released`.

    Raises:
        RuntimeError: the download's size or MD5 is wrong (the bad file is deleted, so the
            next call starts afresh).
        FileExistsError: the target folder exists but lacks some released files.
        ConnectionError: the download kept failing (the ``.part`` is kept; call again to resume).
    """
    if _suite_name(suite, folders=True) == "imagenet-c":
        raise ValueError("ImageNet-C is not downloaded by this package (tens of GB of tar files, Zenodo record "
                         "2235448): download and extract them by hand, then open_released(root, 'imagenet-c')")
    suite = _suite_name(suite)
    spec = RELEASED_ARCHIVES[suite]
    root = Path(root).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    target = root / spec.folder
    expected = _expected_files(suite)
    for folder in (target, root):
        missing = [name for name in expected if not (folder / name).is_file()]
        if not missing:
            return folder
        if folder == target and target.exists():
            raise FileExistsError(
                f"{target} exists but lacks {len(missing)} of the {len(expected)} released files (e.g. "
                f"{', '.join(missing[:3])}); open what is there with open_released, or delete {target} to "
                "download the archive again"
            )
    url = url or spec.url
    size = None if md5 else spec.size
    md5 = (md5 or spec.md5).lower()
    archive, part = root / spec.filename, root / f"{spec.filename}.part"
    if not archive.is_file():
        for attempt in range(retries + 1):
            try:
                _fetch(url, part, size, progress, timeout)
                break
            except urllib.error.HTTPError as error:
                if error.code < 500 or attempt == retries:
                    raise ConnectionError(f"downloading {url} failed: HTTP {error.code} {error.reason}") from error
            except _RETRYABLE as error:
                if attempt == retries:
                    raise ConnectionError(f"downloading {url} failed after {retries + 1} attempts ({error}); "
                                          f"call download_released again to resume from {part}") from error
        archive_candidate = part
    else:
        archive_candidate = archive
    got_size = archive_candidate.stat().st_size
    got_md5 = None if size is not None and got_size != size else _md5(archive_candidate)
    if got_md5 != md5:
        archive_candidate.unlink()
        found = f"{got_size} bytes instead of {size}" if got_md5 is None else f"MD5 {got_md5} instead of {md5}"
        raise RuntimeError(f"{archive_candidate.name} from {url} is corrupt ({found}); it was deleted, so calling "
                           "download_released again starts a fresh download")
    if archive_candidate == part:
        os.replace(part, archive)
    folder = _extract(archive, root, spec.folder)
    if not keep_archive:
        archive.unlink()
    return folder
