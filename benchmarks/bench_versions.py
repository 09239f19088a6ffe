"""Old vs new: the layer, a training step and a widget redraw, timed side by side in one run.

For a change to the layer's code path (e.g. dropping the pull-kernel cache), time this checkout
against an earlier copy of the package, interleaved round by round so that machine noise hits
both alike; each ratio is the median over rounds of new time / old time.

    git worktree add /tmp/old <commit>          # or copy an old pushpull_viz folder anywhere
    python benchmarks/bench_versions.py --old /tmp/old/pushpull_viz

The old package is imported under another name (``pushpull_viz_old``), so both live in one process.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import pushpull_viz as new  # noqa: E402
from pushpull_viz.viz import widgets as new_widgets  # noqa: E402

from bench_layer import interleaved as _interleaved  # noqa: E402  (benchmarks/ is the script's folder)
from bench_layer import layer_step as layer_step_of  # noqa: E402

CPU = torch.device("cpu")


def interleaved(candidates: dict, rounds: int) -> dict[str, list[float]]:
    return _interleaved(candidates, rounds, 3, CPU)


def _import_old(folder: Path):
    spec = importlib.util.spec_from_file_location("pushpull_viz_old", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["pushpull_viz_old"] = module
    spec.loader.exec_module(module)
    return module


def report(title: str, times: dict[str, list[float]]) -> None:
    old, new_ = times["old"], times["new"]
    ratio = statistics.median(n / o for n, o in zip(new_, old, strict=True))
    print(f"{title:<58} old {1e3 * statistics.median(old):8.2f} ms   new {1e3 * statistics.median(new_):8.2f} ms"
          f"   new/old {ratio:6.3f}")


def layer_step(package, shape, rounds):
    in_ch, out_ch, k, stride, pad, size, batch = shape
    torch.manual_seed(0)
    x = torch.rand(batch, in_ch, size, size)
    layers = {}
    for name, pkg in package.items():
        layers[name] = pkg.PushPull2d(in_ch, out_ch, k, stride, pad)
    layers["new"].load_state_dict(layers["old"].state_dict())
    grad = torch.randn_like(layers["old"](x))

    def step(layer):
        return layer_step_of(layer, x, grad)

    def infer(layer):
        def run():
            with torch.no_grad():
                layer(x)
        return run

    label = f"{in_ch}->{out_ch}, {k}x{k}/{stride}, batch {batch}, {size}x{size}"
    report(f"layer forward+backward {label}", interleaved({n: step(m) for n, m in layers.items()}, rounds))
    report(f"layer inference (no_grad) {label}", interleaved({n: infer(m) for n, m in layers.items()}, rounds))


def model_inference(package, rounds):
    torch.manual_seed(0)
    models = {name: pkg.build_model("lenet-a", pushpull=True).eval() for name, pkg in package.items()}
    models["new"].load_state_dict(models["old"].state_dict())
    for batch in (1, 1000):
        x = torch.rand(batch, 1, 28, 28)

        def run(model, x=x):
            def go():
                with torch.no_grad():
                    model(x)
            return go

        report(f"LeNet-A-PP inference, batch {batch}", interleaved({n: run(m) for n, m in models.items()}, rounds))


def train_step(package, rounds):
    torch.manual_seed(0)
    x, y = torch.rand(128, 3, 32, 32), torch.randint(0, 10, (128,))
    steps = {}
    for name, pkg in package.items():
        model = pkg.build_model("resnet20", pushpull=True)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)

        def step(model=model, optimizer=optimizer):
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            optimizer.step()

        steps[name] = step
    report("PP-ResNet-20 training step, batch 128", interleaved(steps, rounds))


def widget_steps(widgets, rounds):
    """PushPullFrames as the explorer calls it: an alpha step (cached maps), an h step, a noise step."""
    torch.manual_seed(0)
    image = torch.rand(1, 28, 28)
    layers = {"old": widgets["old_layers"].PushPull2d(1, 6, 5), "new": new.PushPull2d(1, 6, 5)}
    layers["new"].load_state_dict(layers["old"].state_dict())
    frames = {name: widgets[name].PushPullFrames(layers[name], image) for name in ("old", "new")}
    counter = {"old": 0, "new": 0}

    def alpha_step(name):
        def run():
            counter[name] += 1
            frames[name](0.1 * (counter[name] % 30), 2.0, 0.1)
        return run

    def scale_step(name):
        def run():
            counter[name] += 1
            frames[name]._responses.clear()
            frames[name](1.0, 1.0 + 0.1 * (counter[name] % 20), 0.1)
        return run

    def noise_step(name):
        def run():
            counter[name] += 1
            frames[name](1.0, 2.0, 0.001 + 1e-5 * counter[name])
        return run

    for title, make in (("widget frame: alpha step (MNIST layer, 28x28)", alpha_step),
                        ("widget frame: h step (new pull kernel, convolutions)", scale_step),
                        ("widget frame: noise step (new noise, convolutions)", noise_step)):
        report(title, interleaved({name: make(name) for name in ("old", "new")}, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, type=Path, help="folder of the old pushpull_viz package")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    old = _import_old(args.old.resolve())
    import pushpull_viz_old.viz.widgets as old_widgets  # noqa: E402  (registered by _import_old)

    package = {"old": old, "new": new}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; {args.rounds} interleaved rounds; old = {args.old}\n")
    layer_step(package, (3, 16, 3, 1, 1, 32, 128), args.rounds)
    layer_step(package, (1, 6, 5, 1, 2, 28, 128), args.rounds)
    layer_step(package, (3, 64, 7, 2, 3, 112, 32), max(5, args.rounds // 3))
    model_inference(package, args.rounds)
    train_step(package, max(5, args.rounds // 2))
    widget_steps({"old": old_widgets, "new": new_widgets, "old_layers": old.layers}, args.rounds)


if __name__ == "__main__":
    main()
