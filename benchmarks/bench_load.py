"""Training speed alone and beside another CPU job: how much do processes that share the cores slow
each other down, and how much of that is thread oversubscription?

One epoch of LeNet-A (recipe lenet-quick, batch 128) on ``--images`` MNIST digits, timed:
  1. alone, with torch's default threads (all cores);
  2. beside a competing process that multiplies matrices with all cores (both oversubscribe);
  3. beside the same competitor, each process limited to half the cores (what ``make test`` sets for its
     two workers through OMP_NUM_THREADS).
Each case is run ``--repeats`` times; the table gives the median images/s and the slowdown against
case 1. With ``--demo``, the whole ``pushpull-viz demo`` (a fresh output folder each time, so it trains
both models) is timed in the same three cases, as a separate process (the half-cores case sets
``OMP_NUM_THREADS`` for it, as a user sharing the machine would).

    python benchmarks/bench_load.py --images 20000 --repeats 3 --demo
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import time


def _compete(threads: int, stop) -> None:
    import torch

    torch.set_num_threads(threads)
    a = torch.rand(512, 512)
    while not stop.is_set():
        a = (a @ a).clamp_(-1, 1)


def _epoch(images: int, threads: int) -> float:
    import torch

    from pushpull_viz.data import load_dataset
    from pushpull_viz.models import build_model
    from pushpull_viz.train import fit

    torch.set_num_threads(threads)
    train = load_dataset("mnist", "train")
    train = train.subset(torch.arange(images))
    start = time.perf_counter()
    fit(build_model("lenet-a"), train, "lenet-quick", epochs=1, device="cpu", progress=False)
    return images / (time.perf_counter() - start)


def _demo(threads: int) -> float:
    """Seconds of a whole ``pushpull-viz demo`` run into a fresh folder, with ``threads`` OpenMP threads."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pushpull_viz.cli", "demo", "--out", f"{folder}/demo"], env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--demo", action="store_true", help="also time the whole demo in the same cases")
    args = parser.parse_args()
    cores = os.cpu_count() or 2
    half = max(1, cores // 2)
    cases = {"alone, all cores": (cores, None), "beside a competitor, both all cores": (cores, cores),
             f"beside a competitor, each {half} of {cores} cores": (half, half)}
    rates: dict[str, list[float]] = {name: [] for name in cases}
    demo: dict[str, list[float]] = {name: [] for name in cases}
    context = mp.get_context("spawn")
    print(f"load average before: {os.getloadavg()}")
    for _ in range(args.repeats):
        for name, (threads, competitor) in cases.items():
            stop, process = context.Event(), None
            if competitor:
                process = context.Process(target=_compete, args=(competitor, stop), daemon=True)
                process.start()
                time.sleep(2)  # let it start working
            try:
                rates[name].append(_epoch(args.images, threads))
                if args.demo:
                    demo[name].append(_demo(threads))
            finally:
                if process is not None:
                    stop.set()
                    process.join(10)
    base = statistics.median(rates["alone, all cores"])
    print(f"{cores} cores, one lenet-quick epoch on {args.images:,} digits, median of {args.repeats}:")
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"  {name:<45} {rate:>9.0f} images/s   {base / rate:5.2f}x slower than alone")
    if args.demo:
        base = statistics.median(demo["alone, all cores"])
        print(f"the whole demo (pushpull-viz demo, fresh folder), median of {args.repeats}:")
        for name, values in demo.items():
            seconds = statistics.median(values)
            print(f"  {name:<45} {seconds:>9.1f} s          {seconds / base:5.2f}x slower than alone")


if __name__ == "__main__":
    main()
