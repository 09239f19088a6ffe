"""How long one slider step of the push-pull explorer takes, against a 100 ms target (median and 90th percentile).

A step is what a slider move costs before the browser gets its picture: the pure computation
(:class:`pushpull_viz.viz.widgets.PushPullFrames` through ``explorer.redraw(render=False)``,
which also updates the artists in place) plus ``fig.canvas.draw()`` on the Agg canvas. The
PNG encoding that sends the picture to the ``ipywidgets.Image`` is timed separately.

Two cases: an MNIST first layer ``PushPull2d(1, 6, 5)`` on a 28x28 image and a CIFAR first
layer ``PushPull2d(3, 16, 3, padding=1)`` on a 32x32 image; three sliders each: alpha (cached
push/pull maps: only ``push - alpha * pull``), h (new pull kernel size: a convolution) and the
noise level (a fresh level every step: new noise and convolutions; nothing cached).

    .venv/bin/python benchmarks/bench_widgets.py --steps 30

Real images are used when ``--data-root`` holds MNIST / the JPEG-75 CIFAR-10 copy, else
random ones (the timing does not depend on the picture). Weights are random: only shapes matter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pushpull_viz.data import resolve_data_root  # noqa: E402
from pushpull_viz.layers import PushPull2d  # noqa: E402
from pushpull_viz.viz.widgets import PushPullExplorer, _png  # noqa: E402

TARGET_MS = 100.0


def _image(kind: str, data_root: str | None) -> torch.Tensor:
    if data_root:
        try:
            if kind == "mnist":
                from pushpull_viz.data import load_dataset

                return load_dataset("mnist", "test", data_root).images[0]
            from pushpull_viz.data import load_cifar10_jpeg75

            return load_cifar10_jpeg75("test", data_root, per_class=1)[0][3]
        except (FileNotFoundError, OSError, ValueError) as error:
            print(f"({kind}: no data under {data_root}: {error}; using a random image)")
    generator = torch.Generator().manual_seed(0)
    shape = (1, 28, 28) if kind == "mnist" else (3, 32, 32)
    return torch.randint(0, 256, shape, generator=generator, dtype=torch.uint8)


def _steps(explorer: PushPullExplorer, slider: str, values: np.ndarray) -> tuple[list[float], list[float]]:
    """Time each step: (compute + in-place artist update + canvas.draw), and PNG encoding."""
    widget = {"alpha": explorer.alpha_slider, "h": explorer.scale_slider, "noise": explorer.noise_slider}[slider]
    steps, encodes = [], []
    for value in values:
        explorer._muted = True  # set the slider without its own redraw, then time one step by hand
        widget.value = float(value)
        explorer._muted = False
        start = time.perf_counter()
        explorer.redraw(render=False)
        explorer.draw()  # into the Agg buffer: the whole figure, or only the output panel for an alpha step
        middle = time.perf_counter()
        _png(explorer.figure)
        encodes.append(time.perf_counter() - middle)
        steps.append(middle - start)
    return steps, encodes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="slider steps per slider (median reported)")
    parser.add_argument("--data-root", default=None,
                        help="data root with MNIST and cifar10-jpeg75 (default $PUSHPULL_DATA; else random images)")
    parser.add_argument("--dpi", type=int, default=100, help="figure resolution (the explorers' default is 100)")
    args = parser.parse_args(argv)
    args.data_root = resolve_data_root(args.data_root, required=False)
    if args.steps < 2:
        parser.error("--steps must be >= 2")
    torch.manual_seed(0)
    cases = {
        "MNIST PushPull2d(1, 6, 5) 28x28": (PushPull2d(1, 6, 5), _image("mnist", args.data_root),
                                            "mnist_gaussian_noise"),
        "CIFAR PushPull2d(3, 16, 3) 32x32": (PushPull2d(3, 16, 3, padding=1), _image("cifar", args.data_root),
                                             "mnist_gaussian_noise"),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; {args.steps} steps per slider; target {TARGET_MS:.0f} ms\n")
    header = f"{'case':34} {'slider':6} {'step ms (median)':>17} {'p90 ms':>8} {'/ target':>9} {'+ PNG ms':>9}"
    print(header)
    print("-" * len(header))
    for name, (layer, image, corruption) in cases.items():
        explorer = PushPullExplorer(layer, image, corruption=corruption, noise_level=0.1, dpi=args.dpi)
        explorer.redraw()  # warm up: first draw, font cache
        n = args.steps
        sweeps = {
            "alpha": np.resize(np.linspace(0.0, 3.0, 13), n),
            # distinct h values; with the response cache warm only the first visit of each costs a convolution,
            # so the sweep goes through new values (at most 21 distinct) and starts cold
            "h": np.resize(np.round(np.linspace(1.0, 3.0, 21), 2), n),
            # every step a new noise level: new noise and new convolutions (cache misses)
            "noise": np.linspace(0.001, 0.5, n) + 1e-6 * np.arange(n),
        }
        for slider, values in sweeps.items():
            explorer.frames._responses.clear()
            steps, encodes = _steps(explorer, slider, values)
            median = 1000 * statistics.median(steps)
            p90 = 1000 * float(np.percentile(steps, 90))
            print(f"{name:34} {slider:6} {median:17.1f} {p90:8.1f} {median / TARGET_MS:9.2f} "
                  f"{1000 * statistics.median(encodes):9.1f}")


if __name__ == "__main__":
    main()
