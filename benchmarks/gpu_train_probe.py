"""Time the ResNet-20 and PP-ResNet-20 training steps as ``fit`` takes them (AMP, channels_last),
and pick the epochs of the paired CIFAR run that fit a time budget; or, with ``--profile``, show
where the time of each step goes (torch profiler, device time per operator).

    python benchmarks/gpu_train_probe.py --device cuda --budget 200 --out epochs.txt
    python benchmarks/gpu_train_probe.py --device cuda --profile

Used by ``benchmarks/gpu_checks.sh``. The epoch estimate: budget / (overhead x steps per epoch x
(plain step + push-pull step)), overhead 1.3 for the augmentation, the per-epoch test and logging,
clamped to 8..60 epochs.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import torch

from pushpull_viz.models import build_model

from bench_layer import train_step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per model")
    parser.add_argument("--budget", type=float, default=200.0, help="seconds for training both models")
    parser.add_argument("--train-images", type=int, default=50_000)
    parser.add_argument("--out", default=None, help="write the chosen epochs to this file")
    parser.add_argument("--profile", action="store_true", help="profile the two steps instead")
    args = parser.parse_args()
    device = torch.device(args.device)
    amp = device.type == "cuda"
    fmt = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    torch.manual_seed(0)
    steps = {"ResNet-20": train_step(build_model("resnet20"), device, fmt, args.batch, amp),
             "ResNet-20-PP": train_step(build_model("resnet20", pushpull=True), device, fmt, args.batch, amp)}
    for step in steps.values():
        for _ in range(5):
            step()
    _sync(device)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        key = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
        totals = {}
        for name, step in steps.items():
            with profile(activities=activities) as prof:
                for _ in range(args.steps):
                    step()
                _sync(device)
            events = prof.key_averages()
            total = sum(getattr(e, key, 0) or 0 for e in events)
            totals[name] = total
            print(f"\n{name}, batch {args.batch}, {args.steps} steps: {key} per step "
                  f"{total / args.steps / 1e3:.3f} ms (sum of self times)")
            try:
                print(events.table(sort_by=key, row_limit=15, max_name_column_width=60))
            except (KeyError, AttributeError, ValueError):
                print(events.table(sort_by=key.replace("device", "cuda"), row_limit=15, max_name_column_width=60))
        print(f"\ndevice time per step, PP / plain: {totals['ResNet-20-PP'] / totals['ResNet-20']:.3f}")
        return
    times = {name: [] for name in steps}
    for _ in range(args.steps):
        for name, step in steps.items():
            _sync(device)
            start = time.perf_counter()
            step()
            _sync(device)
            times[name].append(time.perf_counter() - start)
    per_step = {name: statistics.median(t) for name, t in times.items()}
    steps_per_epoch = math.ceil(args.train_images / args.batch)
    epoch_pair = 1.3 * steps_per_epoch * sum(per_step.values())
    epochs = max(8, min(60, int(args.budget / epoch_pair)))
    for name, seconds in per_step.items():
        print(f"{name}: {1e3 * seconds:.2f} ms per step (median of {args.steps}), batch {args.batch}")
    print(f"ratio PP / plain: {per_step['ResNet-20-PP'] / per_step['ResNet-20']:.3f}")
    print(f"estimated {epoch_pair:.1f} s per epoch of both models -> {epochs} epochs in {args.budget:.0f} s")
    if args.out:
        Path(args.out).write_text(f"{epochs}\n")


if __name__ == "__main__":
    main()
