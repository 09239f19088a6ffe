"""The RELEASED ImageNet-C images: folders of JPEGs, streamed through ``DataLoader`` workers.

ImageNet-C (Hendrycks & Dietterich 2019; Zenodo record 2235448, CC BY 4.0) ships as tar files (``noise.tar``,
``blur.tar``, ``weather.tar``, ``digital.tar``, ``extra.tar``) that extract to
``<corruption>/<severity>/<wnid>/<file>.JPEG``: 224x224 images (the validation images resized to 256 and
centre-cropped to 224, corrupted, saved as JPEG), 50 per class and 1,000 classes per severity. Some copies
keep the tar's group as a level above (``noise/gaussian_noise/3/...``); both layouts are found.

:func:`~pushpull_viz.corruptions.open_released` ``(root, "imagenet-c")`` returns a :class:`ReleasedImageFolders`;
:func:`~pushpull_viz.robustness.evaluate_released` streams it, one corruption and severity at a time. The
clean row comes from the ImageNet validation folder (``folder_dataloader(val, train=False,
pipeline="imagenet")``: the same resize and crop).

Example:
    >>> import tempfile
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for severity in (1, 2):   # a tiny stand-in: one corruption, two severities, two classes
    ...     for wnid in ("n01440764", "n01443537"):
    ...         (root / "fog" / str(severity) / wnid).mkdir(parents=True)
    ...         Image.new("RGB", (224, 224)).save(root / "fog" / str(severity) / wnid / "a.JPEG")
    >>> suite = ReleasedImageFolders(root)
    >>> suite.corruptions, suite.severities, len(suite.classes), suite.registry_name("fog")
    (('fog',), (1, 2), 2, 'imagenetc_fog')
    >>> images, labels = next(iter(suite.loader("fog", 2, batch_size=4, num_workers=0)))
    >>> images.shape, images.dtype, labels.tolist()
    (torch.Size([2, 3, 224, 224]), torch.uint8, [0, 1])
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .imagenet_c import IMAGENETC_ALL, PREFIX

__all__ = ["IMAGENETC_GROUPS", "ReleasedImageFolders"]

#: The tar files of the release and the corruptions each holds.
IMAGENETC_GROUPS = {
    "noise": ("gaussian_noise", "shot_noise", "impulse_noise"),
    "blur": ("defocus_blur", "glass_blur", "motion_blur", "zoom_blur"),
    "weather": ("snow", "frost", "fog", "brightness"),
    "digital": ("contrast", "elastic_transform", "pixelate", "jpeg_compression"),
    "extra": ("speckle_noise", "gaussian_blur", "spatter", "saturate"),
}
_NAMES = tuple(name[len(PREFIX):] for name in IMAGENETC_ALL)
_LAYOUT = ("<corruption>/<severity>/<wnid>/<image>.JPEG (or <group>/<corruption>/...), the layout the "
           "ImageNet-C tar files extract to (Zenodo record 2235448; download them by hand: tens of GB)")


class ReleasedImageFolders:
    """The released ImageNet-C folders under one root, read lazily.

    Attributes:
        suite: ``"imagenet-c"``.
        folder: the root.
        corruptions: the corruptions present, plain names (``"fog"``), in the suite's order.
        severities: the severities present (``(1, 2, 3, 4, 5)`` for the full release).
        classes: the class folders (WordNet ids), sorted as torchvision's ``ImageFolder`` sorts them, which is
            the class order of torchvision's ImageNet models.
        num_workers: ``DataLoader`` workers per corruption and severity.

    Shape:
        - :meth:`loader` batches: ``uint8 (B, 3, H, W)`` images (224x224 in the release), ``int64 (B,)`` labels.
    """

    suite = "imagenet-c"
    has_clean = False

    def __init__(self, root: str | os.PathLike, num_workers: int | None = None) -> None:
        self.folder = Path(root).expanduser()
        if not self.folder.is_dir():
            raise FileNotFoundError(f"ImageNet-C root {self.folder.resolve()} is not a directory; expected {_LAYOUT}")
        self._where: dict[str, Path] = {}
        for name in _NAMES:
            group = next(g for g, members in IMAGENETC_GROUPS.items() if name in members)
            for candidate in (self.folder / name, self.folder / group / name):
                if candidate.is_dir():
                    self._where[name] = candidate
                    break
        if not self._where:
            raise FileNotFoundError(f"no ImageNet-C corruption folders in {self.folder.resolve()}; expected {_LAYOUT}")
        self.corruptions: tuple[str, ...] = tuple(n for n in _NAMES if n in self._where)
        found = {int(p.name) for folder in self._where.values() for p in folder.iterdir()
                 if p.is_dir() and p.name.isdigit()}
        if not found:
            raise FileNotFoundError(f"no severity folders (1..5) in {', '.join(map(str, self._where.values()))}; "
                                    f"expected {_LAYOUT}")
        self.severities: tuple[int, ...] = tuple(sorted(found))
        first = self.path(self.corruptions[0], self.severities[0])
        self.classes: tuple[str, ...] = tuple(sorted(p.name for p in first.iterdir() if p.is_dir()))
        if not self.classes:
            raise FileNotFoundError(f"no class folders in {first}; expected {_LAYOUT}")
        self.num_workers = min(8, os.cpu_count() or 1) if num_workers is None else num_workers
        self._sizes: dict[tuple[str, int], int] = {}

    def __repr__(self) -> str:
        return (f"ReleasedImageFolders('imagenet-c', folder={str(self.folder)!r}, {len(self.corruptions)} corruptions, "
                f"severities {self.severities[0]}..{self.severities[-1]}, {len(self.classes)} classes)")

    @staticmethod
    def registry_name(corruption: str) -> str:
        """The name the corruption registry and the results tables use: ``"fog"`` -> ``"imagenetc_fog"``."""
        return corruption if corruption.startswith(PREFIX) else PREFIX + corruption

    def path(self, corruption: str, severity: int) -> Path:
        """The folder of one corruption at one severity (its class sub-folders hold the images)."""
        name = corruption[len(PREFIX):] if corruption.startswith(PREFIX) else corruption
        if name not in self._where:
            known = "present" if name in _NAMES else "an ImageNet-C corruption"
            raise ValueError(f"corruption {corruption!r} is not {known} in {self.folder}; present: "
                             f"{', '.join(self.corruptions)}")
        if isinstance(severity, bool) or severity not in self.severities:
            raise ValueError(f"severity must be one of {self.severities} here, got {severity!r}")
        folder = self._where[name] / str(int(severity))
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is missing: severity {severity} of {name} was not extracted")
        return folder

    def dataset(self, corruption: str, severity: int):
        """torchvision ``ImageFolder`` of one corruption and severity, images as uint8 tensors."""
        from torchvision import datasets, transforms

        folder = self.path(corruption, severity)
        data = datasets.ImageFolder(str(folder), transform=transforms.PILToTensor())
        if tuple(data.classes) != self.classes:
            raise ValueError(f"{folder} holds other classes than {self.path(self.corruptions[0], self.severities[0])} "
                             f"({len(data.classes)} vs {len(self.classes)}): a partly extracted release?")
        size = self._sizes.setdefault((self.corruptions[0], self.severities[0]), len(data))
        if len(data) != size:
            raise ValueError(f"{folder} holds {len(data)} images, other folders {size}: every corruption and "
                             "severity must hold the same images (a partly extracted release?)")
        return data

    def loader(self, corruption: str, severity: int, batch_size: int = 250, indices: torch.Tensor | None = None,
               num_workers: int | None = None):
        """Batches of one corruption and severity in a fixed order (``indices``: only these images, the same
        ones in every folder)."""
        from torch.utils.data import DataLoader, Subset

        data = self.dataset(corruption, severity)
        if indices is not None:
            data = Subset(data, [int(i) for i in indices])
        workers = self.num_workers if num_workers is None else num_workers
        return DataLoader(data, batch_size=batch_size, shuffle=False, num_workers=workers,
                          pin_memory=torch.cuda.is_available())
