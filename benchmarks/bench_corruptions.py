"""Time generating a whole corruption suite (19 corruptions x 5 severities): CIFAR-10-C (default) or
ImageNet-C at 224x224 (``--suite imagenet-c``).

CIFAR-10-C, side by side in one run:
  * ours: ``pushpull_viz.corruptions.corrupt`` on batches of CIFAR images, for ``--n`` images
    (every corruption and severity; on CPU, and on CUDA when available or asked for);
  * ``imagecorruptions-imaug`` (per image, CPU; its ImageNet parameters are stronger, so only
    its time is comparable) on ``--baseline-n`` images, scaled to ``--n``;
  * the per-image numpy/scipy reference of the tests (``tests/cifar10c_reference.py``, the
    CIFAR recipe) on ``--baseline-n`` images, scaled to ``--n``.

Each timing is the median of ``--repeats`` runs (the baselines run once: they are slow).
Images: the JPEG-75 CIFAR-10 test copy under ``$PUSHPULL_DATA`` if present, else random.

    python benchmarks/bench_corruptions.py --n 10000 --baseline-n 100

ImageNet-C (``--suite imagenet-c``), side by side in one run:
  * ours: ``corrupt(images, "imagenetc_<name>", severity)`` on batches of ``--batch`` (default 32)
    224x224 images, for ``--n`` images (default 1,000), median of ``--repeats`` runs, on CPU and
    on CUDA when available;
  * ``imagecorruptions-imaug`` per image (CPU) on ``--baseline-n`` images: for each corruption and
    severity the median time per image, times ``--n``. Its frost and elastic transform are its own
    variants, not the script's (see ``pushpull_viz.corruptions.imagenet_c``); the times compare anyway.
Images: 224x224 views of the scikit-image photographs (``tests/test_imagenet_c.py``), repeated.

    python benchmarks/bench_corruptions.py --suite imagenet-c --n 1000 --baseline-n 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from pushpull_viz.corruptions import CIFAR10C_ALL, IMAGENETC_ALL, corrupt
from pushpull_viz.data import load_cifar10_jpeg75, resolve_data_root

TESTS = Path(__file__).resolve().parents[1] / "tests"


def _images(n: int) -> torch.Tensor:
    root = resolve_data_root(required=False)
    if root and (root / "cifar10-jpeg75").exists():
        images, _ = load_cifar10_jpeg75("test", root)
        reps = -(-n // len(images))
        return images.repeat(reps, 1, 1, 1)[:n]
    return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _imagenet_images(n: int) -> torch.Tensor:
    """``n`` uint8 224x224 photographs (the test suite's 16 views of scikit-image's photographs, repeated)."""
    sys.path.insert(0, str(TESTS))
    from test_imagenet_c import photographs

    photos = torch.from_numpy(photographs()).permute(0, 3, 1, 2).contiguous()
    return photos.repeat(-(-n // len(photos)), 1, 1, 1)[:n]


def time_ours(images: torch.Tensor, device: torch.device, batch: int,
              names: tuple[str, ...] = CIFAR10C_ALL) -> dict[str, float]:
    """Seconds per corruption (all 5 severities) for all images, moved to ``device`` once."""
    images = images.to(device)
    generator = torch.Generator(device=device).manual_seed(0)
    seconds = {}
    for name in names:
        _sync(device)
        start = time.perf_counter()
        for severity in range(1, 6):
            for i in range(0, images.shape[0], batch):
                corrupt(images[i:i + batch], name, severity, generator)
        _sync(device)
        seconds[name] = time.perf_counter() - start
    return seconds


def time_per_image(function, images: np.ndarray) -> dict[str, float]:
    """Seconds per corruption (all 5 severities) for the given HWC uint8 images."""
    seconds = {}
    for name in CIFAR10C_ALL:
        function(images[0], name, 1)  # warm-up (numba compiles, photos load)
        start = time.perf_counter()
        for severity in range(1, 6):
            for image in images:
                function(image, name, severity)
        seconds[name] = time.perf_counter() - start
    return seconds


def time_median_per_image(function, images: np.ndarray, names: tuple[str, ...], n: int) -> dict[str, float]:
    """Seconds per corruption (all 5 severities) for ``n`` images: for each severity the median time
    per image over the given HWC uint8 images, times ``n``."""
    seconds = {}
    for name in names:
        function(images[0], name, 1)  # warm-up (numba compiles, photos load)
        total = 0.0
        for severity in range(1, 6):
            per_image = []
            for image in images:
                start = time.perf_counter()
                function(image, name, severity)
                per_image.append(time.perf_counter() - start)
            total += statistics.median(per_image) * n
        seconds[name] = total
    return seconds


def imagenet_main(args: argparse.Namespace, devices: list[str]) -> None:
    """``--suite imagenet-c``: ours (batched, per device) beside imagecorruptions (per image)."""
    n = args.n if args.n is not None else 1000
    batch = args.batch if args.batch is not None else 32
    baseline_n = args.baseline_n if args.baseline_n is not None else 20
    images = _imagenet_images(n)
    columns: dict[str, dict[str, float]] = {}
    for device in devices:
        device = torch.device(device)
        time_ours(images[:2], device, 2, IMAGENETC_ALL)  # warm-up (imports, frost photographs, kernels)
        runs = [time_ours(images, device, batch, IMAGENETC_ALL) for _ in range(args.repeats)]
        columns[f"ours ({device.type})"] = {k: statistics.median(r[k] for r in runs) for k in IMAGENETC_ALL}
    if not args.skip_baselines:
        try:
            from imagecorruptions import corrupt as ic_corrupt
        except ImportError:
            print("imagecorruptions-imaug is not installed: skipping it (pip install imagecorruptions-imaug)")
        else:
            warnings.filterwarnings("ignore", category=RuntimeWarning, module="imagecorruptions")
            sample = images[:baseline_n].permute(0, 2, 3, 1).numpy()
            seconds = time_median_per_image(
                lambda im, name, s: ic_corrupt(im, corruption_name=name.removeprefix("imagenetc_"), severity=s),
                sample, IMAGENETC_ALL, n)
            columns["imagecorruptions (cpu)"] = seconds
    names = list(columns)
    print(f"\nImageNet-C, seconds for the 5 severities of each corruption on {n:,} images of 224x224 "
          f"(ours: batches of {batch}, median of {args.repeats}; imagecorruptions: median per image over "
          f"{baseline_n} images, times {n:,}):")
    print(f"{'corruption':<30}" + "".join(f"{c:>24}" for c in names))
    for name in IMAGENETC_ALL:
        print(f"{name:<30}" + "".join(f"{columns[c][name]:>24.2f}" for c in names))
    totals = {c: sum(columns[c].values()) for c in names}
    print(f"{'TOTAL':<30}" + "".join(f"{totals[c]:>24.1f}" for c in names))
    print(f"\nfull suite, {n:,} images = {95 * n:,} corrupted images:")
    for column in names:
        print(f"  {column:<24} {totals[column]:8.1f} s   {totals[column] / totals[names[0]]:6.2f}x {names[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", choices=("cifar10-c", "imagenet-c"), default="cifar10-c",
                        help="which suite to time (default: %(default)s)")
    parser.add_argument("--n", type=int, default=None,
                        help="images for our suite (default: 10,000 for CIFAR-10-C, 1,000 for ImageNet-C)")
    parser.add_argument("--baseline-n", type=int, default=None,
                        help="images for the per-image baselines (default: 100 for CIFAR-10-C, 20 for ImageNet-C)")
    parser.add_argument("--batch", type=int, default=None,
                        help="our batch size (default: 1,000 for CIFAR-10-C, 32 for ImageNet-C)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of our timing (median)")
    parser.add_argument("--device", action="append", default=None,
                        help="cpu and/or cuda (default: cpu, + cuda if available)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    devices = args.device or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {os.cpu_count()} cores"
          + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""))
    if args.suite == "imagenet-c":
        imagenet_main(args, devices)
        return
    args.n = 10_000 if args.n is None else args.n
    args.baseline_n = 100 if args.baseline_n is None else args.baseline_n
    args.batch = 1000 if args.batch is None else args.batch
    images = _images(args.n)
    totals: dict[str, float] = {}
    per_corruption: dict[str, dict[str, float]] = {}
    for device in devices:
        device = torch.device(device)
        time_ours(images[:args.batch], device, args.batch)  # warm-up
        runs = [time_ours(images, device, args.batch) for _ in range(args.repeats)]
        per_corruption[f"ours ({device.type})"] = {k: statistics.median(r[k] for r in runs) for k in CIFAR10C_ALL}
        totals[f"ours ({device.type})"] = statistics.median(sum(r.values()) for r in runs)
    if not args.skip_baselines:
        sample = images[:args.baseline_n].permute(0, 2, 3, 1).numpy()
        scale = args.n / args.baseline_n
        try:
            from imagecorruptions import corrupt as ic_corrupt

            # its spatter divides 0 by 0 on images without drops (the published script does too)
            warnings.filterwarnings("ignore", category=RuntimeWarning, module="imagecorruptions")

            seconds = time_per_image(lambda im, name, s: ic_corrupt(im, corruption_name=name, severity=s), sample)
            per_corruption["imagecorruptions (cpu)"] = {k: v * scale for k, v in seconds.items()}
            totals["imagecorruptions (cpu)"] = sum(seconds.values()) * scale
        except ImportError:
            print("imagecorruptions-imaug is not installed: skipping it (pip install imagecorruptions-imaug)")
        sys.path.insert(0, str(TESTS))
        from cifar10c_reference import REFERENCE

        rng = np.random.default_rng(0)
        seconds = time_per_image(lambda im, name, s: REFERENCE[name](im, s, rng), sample)
        per_corruption["numpy reference (cpu)"] = {k: v * scale for k, v in seconds.items()}
        totals["numpy reference (cpu)"] = sum(seconds.values()) * scale
    columns = list(totals)
    print(f"\nseconds for the 5 severities of each corruption on {args.n:,} images "
          f"(baselines measured on {args.baseline_n} images and scaled):")
    print(f"{'corruption':<18}" + "".join(f"{c:>24}" for c in columns))
    for name in CIFAR10C_ALL:
        print(f"{name:<18}" + "".join(f"{per_corruption[c][name]:>24.2f}" for c in columns))
    print(f"{'TOTAL':<18}" + "".join(f"{totals[c]:>24.1f}" for c in columns))
    reference = totals[columns[0]]
    print(f"\nfull suite, {args.n:,} images = {95 * args.n:,} corrupted images:")
    for column in columns:
        print(f"  {column:<24} {totals[column]:8.1f} s   {totals[column] / reference:6.1f}x {columns[0]}")


if __name__ == "__main__":
    main()
