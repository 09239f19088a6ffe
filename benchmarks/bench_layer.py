"""Cost of the push-pull layer, measured side by side in one run.

Prints, for each memory format:
  1. forward+backward time of PushPull2d / nn.Conv2d for the CIFAR first layer
     (3 -> 16, 3x3, batch 128, 32x32) for every implementation of the layer, plus a
     7x7 -> 15x15 first layer (torchvision ResNet stem, 3 -> 64, stride 2) where the
     routes trade places;
  2. the PP-ResNet-20 / ResNet-20 training-step time ratio (SGD, batch 128; --batch takes
     several sizes; --amp adds float16 autocast with gradient scaling, as fit uses on CUDA),
     with the layer's fused output and without it (branch ReLUs hooked), and with --compile
     also both networks under torch.compile.

The machines are noisy, so the candidates are timed in interleaved rounds and each
ratio is the median over rounds of (candidate time / baseline time in the same round).

    python benchmarks/bench_layer.py                 # CPU
    python benchmarks/bench_layer.py --device cuda   # GPU, if present
    python benchmarks/bench_layer.py --compile       # also torch.compile (needs a C++ compiler on CPU)
    python benchmarks/bench_layer.py --device cuda --amp --batch 128 512 --formats channels_last \
        --compile --csv layer.csv                     # the GPU run of benchmarks/gpu_checks.sh
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from pushpull_viz import PushPull2d
from pushpull_viz.models import build_model


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


#: calls per timed sample: 1 on the CPU; on a GPU, several, so that one sample is not one launch queue
REPEAT = {"cpu": 1}
#: every printed row, for --csv
ROWS: list[dict] = []


def interleaved(candidates: dict, rounds: int, warmup: int, device: torch.device) -> dict[str, list[float]]:
    """Time each zero-argument callable in turn, once per round (``REPEAT`` calls per sample on a
    GPU); return seconds per call, one sample per round."""
    repeat = REPEAT.get(device.type, 10)
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            _sync(device)
            start = time.perf_counter()
            for _ in range(repeat):
                fn()
            _sync(device)
            times[name].append((time.perf_counter() - start) / repeat)
    return times


def report(times: dict[str, list[float]], baseline: str, section: str = "") -> None:
    base = times[baseline]
    print(f"  {'candidate':<34} {'median ms':>10} {'ratio':>8}")
    for name, ts in times.items():
        ratio = statistics.median(t / b for t, b in zip(ts, base, strict=True))
        print(f"  {name:<34} {1e3 * statistics.median(ts):>10.2f} {ratio:>8.3f}")
        ROWS.append({"section": section, "candidate": name, "median_ms": 1e3 * statistics.median(ts),
                     "ratio": ratio, "baseline": baseline, "rounds": len(ts)})


def layer_step(layer: nn.Module, x: torch.Tensor, grad: torch.Tensor):
    # A dense upstream gradient, as from the BN that follows in a network (out.sum()
    # would hand the ReLU backward a stride-0 gradient, which takes a slow path).
    def step():
        layer.zero_grad(set_to_none=True)
        layer(x).backward(grad)

    return step


def bench_layer(device, memory_format, rounds, in_ch, out_ch, k, stride, pad, size, batch, section=""):
    x = torch.rand(batch, in_ch, size, size, device=device).contiguous(memory_format=memory_format)
    torch.manual_seed(0)
    conv = nn.Conv2d(in_ch, out_ch, k, stride, pad, bias=False).to(device, memory_format=memory_format)
    grad = torch.randn_like(conv(x)).contiguous(memory_format=memory_format)
    candidates = {"nn.Conv2d": layer_step(conv, x, grad)}
    for impl in ("reference", "direct", "blur", "auto"):
        layer = PushPull2d(in_ch, out_ch, k, stride, pad, implementation=impl).to(device, memory_format=memory_format)
        layer.push.weight.data.copy_(conv.weight.data)
        candidates[f"PushPull2d[{impl}]"] = layer_step(layer, x, grad)
    report(interleaved(candidates, rounds, 3, device), "nn.Conv2d", section)


def train_step(model: nn.Module, device, memory_format, batch: int, amp: bool = False):
    """One SGD step as ``fit`` takes it (float16 autocast and gradient scaling with ``amp``)."""
    model = model.to(device, memory_format=memory_format)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    x = torch.rand(batch, 3, 32, 32, device=device).contiguous(memory_format=memory_format)
    y = torch.randint(0, 10, (batch,), device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, enabled=amp):
            loss = F.cross_entropy(model(x).float(), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    return step


def bench_network(device, memory_format, rounds, batch, compile: bool = False, amp: bool = False, section=""):
    torch.manual_seed(0)
    unfused = build_model("resnet20", pushpull=True)
    # A hook on a branch ReLU makes the layer run both ReLUs and the subtraction as written
    # (what Captum's guided methods need): the same layer without the fused output.
    unfused.conv1.pull_relu.register_forward_hook(lambda *args: None)
    candidates = {
        "ResNet-20": train_step(build_model("resnet20"), device, memory_format, batch, amp),
        "PP-ResNet-20 (auto)": train_step(build_model("resnet20", pushpull=True), device, memory_format, batch, amp),
        "PP-ResNet-20 (auto, unfused)": train_step(unfused, device, memory_format, batch, amp),
        "PP-ResNet-20 (reference)": train_step(
            build_model("resnet20", pushpull=True, implementation="reference"), device, memory_format, batch, amp
        ),
    }
    report(interleaved(candidates, rounds, 3, device), "ResNet-20", section)
    if compile:
        # Both networks through torch.compile (inductor): fuses the layer's elementwise passes, so
        # what remains of the ratio is the second, push-sized convolution.
        compiled = {
            "ResNet-20 compiled": train_step(torch.compile(build_model("resnet20")), device, memory_format, batch,
                                             amp),
            "PP-ResNet-20 compiled": train_step(
                torch.compile(build_model("resnet20", pushpull=True)), device, memory_format, batch, amp
            ),
        }
        report(interleaved(compiled, rounds, 3, device), "ResNet-20 compiled", section + " compiled")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds per comparison")
    parser.add_argument("--batch", type=int, nargs="+", default=[128], help="batch size(s) of the training step")
    parser.add_argument("--amp", action="store_true", help="training step with float16 autocast (CUDA)")
    parser.add_argument("--formats", nargs="+", default=["NCHW", "channels_last"], choices=["NCHW", "channels_last"])
    parser.add_argument("--skip-network", action="store_true")
    parser.add_argument("--compile", action="store_true", help="also time both networks under torch.compile")
    parser.add_argument("--csv", default=None, help="also write every row to this CSV file")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else f", {torch.get_num_threads()} "
                                                                                      f"threads"))
    formats = {"NCHW": torch.contiguous_format, "channels_last": torch.channels_last}
    for fmt in args.formats:
        memory_format = formats[fmt]
        batch = args.batch[0]
        print(f"\n[{fmt}] CIFAR first layer 3->16, 3x3 (pull 7x7), batch {batch}, 32x32: forward+backward / "
              f"nn.Conv2d")
        bench_layer(device, memory_format, args.rounds, 3, 16, 3, 1, 1, 32, batch, f"{fmt} CIFAR first layer b{batch}")
        print(f"\n[{fmt}] ResNet stem 3->64, 7x7 stride 2 (pull 15x15), batch 32, 112x112: "
              "forward+backward / nn.Conv2d")
        bench_layer(device, memory_format, max(5, args.rounds // 3), 3, 64, 7, 2, 3, 112, 32, f"{fmt} ResNet stem b32")
        if not args.skip_network:
            for batch in args.batch:
                amp = " + AMP" if args.amp else ""
                print(f"\n[{fmt}] training step (SGD{amp}, batch {batch}) / plain ResNet-20 step")
                bench_network(device, memory_format, args.rounds, batch, args.compile, args.amp,
                              f"{fmt} training step{amp} b{batch}")
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(ROWS[0]))
            writer.writeheader()
            writer.writerows(ROWS)


if __name__ == "__main__":
    main()
