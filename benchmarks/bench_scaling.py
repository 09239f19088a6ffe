"""What an ImageNet-scale run needs per process: the input pipeline's rate and the training step's time.

Side by side in one run:
  * the ``folder_dataloader`` ImageNet pipeline (JPEG decode, random resized crop 224, flip, to tensor) on
    ``--images`` generated JPEGs of ImageNet's typical size (500x375, quality 90; generated, not ImageNet
    photographs, so decode times are indicative), in images/s for each number of DataLoader workers;
  * one training step (forward, backward, SGD) of torchvision's ResNet-50, plain and with a push-pull first
    layer, at ``--batch`` images of 224x224: on CUDA with AMP and channels_last (as ``fit`` trains there),
    on the CPU in float32.

Medians of ``--repeats`` rounds; the load average is printed with the results. docs/scaling.md turns these
into an estimate for several GPUs.

    python benchmarks/bench_scaling.py --images 256 --workers 1 2 --batch 8 --repeats 5
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _write_jpegs(root: Path, n: int, classes: int = 4) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:375, 0:500]
    for i in range(n):
        folder = root / "train" / f"n{i % classes:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        phase = rng.uniform(0, 6.28, 3)
        base = np.stack([np.sin(xs / (20 + 10 * c) + ys / 37 + phase[c]) for c in range(3)], axis=-1)
        image = 128 + 70 * base + rng.normal(0, 18, (375, 500, 3))
        Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(folder / f"{i}.JPEG", quality=90)
    return root / "train"


def time_pipeline(folder: Path, workers: int, batch: int, repeats: int) -> float:
    """Median images/s of one pass over ``folder`` through the training pipeline."""
    from pushpull_viz.data import folder_dataloader

    loader = folder_dataloader(folder, batch, train=True, pipeline="imagenet", image_size=224, num_workers=workers)
    rates = []
    for epoch in range(repeats + 1):  # the first pass warms the page cache and starts workers once
        loader.set_epoch(epoch)
        start, seen = time.perf_counter(), 0
        for images, _ in loader:
            seen += images.shape[0]
        if epoch:
            rates.append(seen / (time.perf_counter() - start))
    return statistics.median(rates)


def time_step(pushpull: bool, batch: int, device: torch.device, repeats: int) -> float:
    """Median seconds of one training step of tv-resnet50."""
    from pushpull_viz.models import build_model

    amp = device.type == "cuda"
    model = build_model("tv-resnet50", pushpull=pushpull, num_classes=1000).to(device)
    if amp:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    x = torch.rand(batch, 3, 224, 224, device=device)
    if amp:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device=device)
    times = []
    for i in range(repeats + 2):  # two warm-up steps
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.autocast(device.type, enabled=amp):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= 2:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=256, help="generated JPEGs for the pipeline timing")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="DataLoader workers to time")
    parser.add_argument("--batch", type=int, default=None, help="step batch (default: 256 on CUDA, 8 on CPU)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--csv", default=None, help="also write the rows to this CSV file")
    args = parser.parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    batch = args.batch or (256 if device.type == "cuda" else 8)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}; {os.cpu_count()} cores; load average {os.getloadavg()}; step device: {name}")
    rows = []
    if not args.skip_pipeline:
        with tempfile.TemporaryDirectory() as tmp:
            folder = _write_jpegs(Path(tmp), args.images)
            for workers in args.workers:
                rate = time_pipeline(folder, workers, 64, args.repeats)
                rows.append({"what": f"ImageNet pipeline, {workers} worker(s)", "value": round(rate, 1),
                             "unit": "images/s", "device": "cpu"})
                print(f"{rows[-1]['what']:<44} {rate:9.1f} images/s ({rate / max(workers, 1):.1f} per worker)")
    for pushpull in (False, True):
        seconds = time_step(pushpull, batch, device, args.repeats)
        label = f"tv-resnet50{' push-pull' if pushpull else ''} step, batch {batch}"
        rows.append({"what": label, "value": round(1000 * seconds, 2), "unit": "ms", "device": name})
        print(f"{label:<44} {1000 * seconds:9.2f} ms ({batch / seconds:.1f} images/s)")
    print(f"load average after: {os.getloadavg()}")
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
