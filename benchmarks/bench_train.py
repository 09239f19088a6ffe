"""Training throughput, plain vs push-pull, measured side by side in one run.

Prints images/second of a full training step as ``fit`` runs it (batch made on the device
by TensorLoader from uint8 images, forward, cross-entropy, backward, SGD step) for
  * LeNet-A on 1x28x28 (CPU), batch 128;
  * ResNet-20 on 3x32x32 (CPU, and CUDA where available; CUDA with AMP + channels_last as
    fit uses them), batch 128, with crop + flip augmentation;
each plain and with a push-pull first layer, timed in interleaved rounds (median of
per-round ratios, since these machines are noisy).

With ``--time-to-accuracy`` it also trains LeNet-A on MNIST with the ``lenet-quick``
recipe through ``fit`` and prints the training time and the test accuracy (the issue's
target: >= 99.0% in <= 60 s of training on the 2-core CPU). That needs MNIST under
``$PUSHPULL_DATA``.

    python benchmarks/bench_train.py [--rounds 7] [--steps 20] [--time-to-accuracy]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from pushpull_viz.data import ImageTensors, TensorLoader
from pushpull_viz.models import build_model


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_stepper(name: str, pushpull: bool, device: torch.device, steps: int, batch: int, augment: bool):
    torch.manual_seed(0)
    shape = (1, 28, 28) if name.startswith("lenet") else (3, 32, 32)
    model = build_model(name, pushpull=pushpull).to(device)
    amp = device.type == "cuda"
    if amp:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    n = steps * batch
    data = ImageTensors(torch.randint(0, 256, (n, *shape), dtype=torch.uint8), torch.randint(0, 10, (n,)),
                        tuple("0123456789"))
    loader = TensorLoader(data, batch, shuffle=True, crop_padding=4 if augment else 0, flip=augment, device=device,
                          channels_last=amp)
    model.train()

    def run() -> None:
        for images, labels in loader:
            with torch.autocast(device.type, enabled=amp):
                loss = F.cross_entropy(model(images).float(), labels)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    return run, n


def compare(name: str, device: torch.device, rounds: int, steps: int, batch: int, augment: bool) -> None:
    runs = {}
    for pushpull in (False, True):
        runs[pushpull] = make_stepper(name, pushpull, device, steps, batch, augment)
    for fn, _ in runs.values():  # warm-up
        fn()
    times = {False: [], True: []}
    for _ in range(rounds):
        for pushpull, (fn, _) in runs.items():
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            times[pushpull].append(time.perf_counter() - start)
    n = runs[False][1]
    plain = statistics.median(n / t for t in times[False])
    pp = statistics.median(n / t for t in times[True])
    ratio = statistics.median(p / b for p, b in zip(times[True], times[False], strict=True))
    print(f"{name:<10} {device.type:<5} {plain:>12.0f} {pp:>12.0f} {ratio:>10.3f}")


def time_to_accuracy() -> None:
    from pushpull_viz.data import load_dataset
    from pushpull_viz.train import fit, seed_everything

    train, test = load_dataset("mnist", "train"), load_dataset("mnist", "test")
    for pushpull in (False, True):
        seed_everything(0)
        result = fit(build_model("lenet-a", pushpull=pushpull), (train, test), "lenet-quick", device="cpu",
                     progress=False)
        label = "LeNet-A-PP" if pushpull else "LeNet-A"
        print(f"{label:<11} lenet-quick ({len(result.history)} epochs): {result.train_seconds:5.1f} s of training, "
              f"test accuracy {100 * result.final_accuracy:.2f}% (target: >= 99.0% in <= 60 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20, help="training steps per timed round")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--time-to-accuracy", action="store_true", help="also train LeNet-A on MNIST with lenet-quick")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
          + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ", no CUDA"))
    print(f"{'model':<10} {'dev':<5} {'plain img/s':>12} {'PP img/s':>12} {'PP/plain t':>10}")
    cpu = torch.device("cpu")
    compare("lenet-a", cpu, args.rounds, args.steps, args.batch, augment=False)
    compare("resnet20", cpu, max(3, args.rounds // 2), max(4, args.steps // 4), args.batch, augment=True)
    if torch.cuda.is_available():
        compare("lenet-a", torch.device("cuda"), args.rounds, args.steps * 5, args.batch, augment=False)
        compare("resnet20", torch.device("cuda"), args.rounds, args.steps * 2, args.batch, augment=True)
    if args.time_to_accuracy:
        time_to_accuracy()


if __name__ == "__main__":
    main()
