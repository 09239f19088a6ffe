"""The main job: train a LeNet and a push-pull LeNet on MNIST, test both on noisy digits, write a report.

``pushpull-viz demo`` (``make demo``) calls :func:`run_demo`. On a laptop CPU it takes a few
minutes. Runs are saved under ``<out>/runs/`` and reused or resumed when the demo is run
again; every file is written atomically.
"""

from __future__ import annotations

import html
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from .checks import check_int
from .corruptions import MNIST_SUITES, corruption_info
from .data import load_dataset, resolve_data_root
from .io import FolderLock, atomic_write_text
from .models import model_info
from .report import markdown_table, save_figure
from .robustness import evaluate
from .train import get_recipe, resolve_device, train_or_resume

__all__ = ["run_demo"]


def run_demo(
    out: str | os.PathLike = "outputs/demo",
    data_root: str | os.PathLike | None = None,
    download: bool | None = None,
    model: str = "lenet-a",
    alpha: float | None = None,
    scale: float | None = None,
    epochs: int | None = None,
    seed: int = 0,
    device: str | None = None,
    test_images: int | None = None,
    train_images: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train ``model`` plain and with a push-pull first layer on MNIST (recipe ``lenet-quick``),
    measure both on clean and noisy test digits (the paper's MNIST suites), and write
    ``report.md``, ``report.html``, PNG figures and the CSV tables into ``out``.

    Args:
        data_root: folder with ``MNIST/raw`` (default ``$PUSHPULL_DATA``). Without one the
            demo downloads MNIST into the cache (``download=None`` means: only then).
        alpha, scale: the push-pull layer's alpha and h (``None``: the layer's defaults, the paper's).
        epochs: override the recipe's 8 epochs.
        test_images / train_images: use a random subset (for quick checks).

    Returns:
        ``{"results": DataFrame, "histories": {...}, "files": [...], "seconds": float}``.
    """
    import matplotlib

    matplotlib.use("Agg")

    from .viz import plot_accuracy_vs_level, plot_corruption_examples, plot_training_curves

    for argument, value in (("train_images", train_images), ("test_images", test_images), ("epochs", epochs)):
        if value is not None:
            check_int(value, argument, 1)
    started = time.perf_counter()
    out = Path(out)
    if download is None:
        download = resolve_data_root(data_root, required=False) is None
    with FolderLock(out, "demo folder"):  # one process at a time writes this report
        device = resolve_device(device)
        try:
            train = load_dataset("mnist", "train", data_root, download=download)
            test = load_dataset("mnist", "test", data_root, download=download)
        except (FileNotFoundError, RuntimeError) as error:
            raise FileNotFoundError(f"the demo needs MNIST: {error}") from error
        generator = torch.Generator().manual_seed(seed)
        if train_images is not None:
            train = train.subset(torch.randperm(len(train), generator=generator)[:train_images])
        if test_images is not None:
            test = test.subset(torch.randperm(len(test), generator=generator)[:test_images])

        recipe = get_recipe("lenet-quick", epochs=epochs)
        pretty = model.upper().replace("LENET", "LeNet")
        runs = {
            pretty: dict(pushpull=False),
            f"{pretty}-PP": dict(pushpull=True, alpha=alpha, scale=scale),
        }
        models, histories = {}, {}
        for label, build in runs.items():
            print(f"training {label} on {train.name} ({len(train)} images, {recipe.epochs} epochs, {device})")
            models[label], histories[label] = train_or_resume(
                model, out / "runs" / label.lower(), (train, test), recipe, seed, device, progress, "mnist", **build)

        print(f"testing on {test.name} ({len(test)} images): clean and {', '.join(MNIST_SUITES)}")
        results = evaluate(models, test.images, test.labels, MNIST_SUITES, device=device, seed=seed, progress=progress)
        results.insert(1, "dataset", test.name)

        files = []
        results_csv = atomic_write_text(out / "robustness.csv", results.to_csv(index=False))
        files.append(results_csv)
        figures = {
            "training_curves.png": plot_training_curves(histories),
            "accuracy_vs_noise.png": plot_accuracy_vs_level(
                results, MNIST_SUITES, {n: corruption_info(n).parameter for n in MNIST_SUITES}),
        }
        examples = test.images[:6]
        for name in MNIST_SUITES:
            figures[f"examples_{name}.png"] = plot_corruption_examples(examples, name, seed=seed)
        for filename, figure in figures.items():
            files.append(save_figure(figure, out / filename))

        summary = _summary(results, histories)
        atomic_write_text(out / "summary.csv", summary.to_csv(index=False))
        files.append(out / "summary.csv")
        seconds = time.perf_counter() - started
        pushpull_layer = models[f"{pretty}-PP"].get_submodule(model_info(model).first_layer)
        context = {
            "when": time.strftime("%Y-%m-%d %H:%M"),
            "device": f"{device} ({platform.processor() or platform.machine()}, torch {torch.__version__}, "
                      f"{torch.get_num_threads()} threads)",
            "recipe": recipe,
            "seed": seed,
            "train": f"{train.name}, {len(train)} images",
            "test": f"{test.name}, {len(test)} images",
            "seconds": seconds,
            # as built (the layer's own defaults when alpha / scale were not given)
            "alpha": float(pushpull_layer.alpha),
            "scale": pushpull_layer.scale,
        }
        files.append(atomic_write_text(out / "report.md", _report_markdown(summary, context)))
        files.append(atomic_write_text(out / "report.html", _report_html(summary, results, context)))
        print(f"wrote {len(files)} files to {out} in {seconds:.0f} s; open {out / 'report.html'}")
        return {"results": results, "summary": summary, "histories": histories, "files": files, "seconds": seconds}


def _summary(results, histories):
    import pandas as pd

    rows = []
    for model, part in results.groupby("model", sort=False):
        clean = part[part.corruption == "clean"]["accuracy"].iloc[0]
        gauss = part[part.corruption == "mnist_gaussian_noise"]
        poisson = part[part.corruption == "mnist_poisson_contrast"]
        at_02 = gauss[gauss.level == 0.2]["accuracy"]
        history = histories[model]
        rows.append({
            "model": model,
            "clean accuracy (%)": round(100 * clean, 2),
            "Gaussian noise sigma^2=0.2 (%)": round(100 * at_02.iloc[0], 2) if len(at_02) else None,
            "Gaussian noise, mean over levels (%)": round(100 * gauss["accuracy"].mean(), 2),
            "Poisson + contrast, mean over levels (%)": round(100 * poisson["accuracy"].mean(), 2),
            "training time (s)": round(float(history["train_seconds"].sum()), 1),
        })
    return pd.DataFrame(rows)


_INTRO = (
    "A push-pull first layer (Strisciuglio et al. 2020) subtracts alpha times the rectified response of an "
    "inverted, {scale}x larger copy of each kernel from the kernel's own rectified response. This run trains "
    "the same LeNet with and without it and tests both on digits with added noise."
)


def _report_markdown(summary, context) -> str:
    recipe = context["recipe"]
    return "\n".join([
        "# pushpull-viz demo: does a push-pull first layer make a LeNet more robust to noise?",
        "",
        _INTRO.format(scale=context["scale"]),
        "",
        "## Results of this run",
        "",
        markdown_table(summary),
        "",
        f"Measured by `pushpull-viz demo` on {context['when']}: {context['device']}. "
        f"Trained on {context['train']} with recipe `{recipe.name}` ({recipe.epochs} epochs, "
        f"batch {recipe.batch_size}, "
        f"one-cycle lr up to {recipe.lr}), seed {context['seed']}, push-pull alpha={context['alpha']}, "
        f"h={context['scale']}; tested on {context['test']}. Noise is drawn with a fixed seed, so both models see "
        f"the same noisy images. Whole demo: {context['seconds']:.0f} s. One seed only: differences of a few "
        "tenths of a percent are within seed-to-seed variation.",
        "",
        "![training curves](training_curves.png)",
        "",
        "![accuracy against noise level](accuracy_vs_noise.png)",
        "",
        "Examples of the two noise suites (first test digits):",
        "",
        *[f"![{name}](examples_{name}.png)" for name in MNIST_SUITES],
        "",
        "Noise definitions: " + "; ".join(f"`{n}`: {corruption_info(n).parameter} in "
                                          f"{list(corruption_info(n).levels)} ({corruption_info(n).note})"
                                          for n in MNIST_SUITES) + ".",
        "",
        "Raw numbers: `robustness.csv` (one row per model x noise x level), `summary.csv`, "
        "`runs/*/metrics.csv` (per epoch).",
        "",
    ])


def _report_html(summary, results, context) -> str:
    pivot = results.assign(accuracy=(100 * results["accuracy"]).round(2)).pivot_table(
        index=["corruption", "severity", "level"], columns="model", values="accuracy", sort=False)
    markdown = _report_markdown(summary, context)
    paragraphs = [line for line in markdown.splitlines() if line and not line.startswith(("#", "|", "!["))]
    images = ["training_curves.png", "accuracy_vs_noise.png", *[f"examples_{n}.png" for n in MNIST_SUITES]]
    body = [
        "<h1>pushpull-viz demo: does a push-pull first layer make a LeNet more robust to noise?</h1>",
        *[f"<p>{html.escape(p)}</p>" for p in paragraphs[:1]],
        "<h2>Results of this run</h2>",
        summary.to_html(index=False, border=0),
        *[f"<p>{html.escape(p)}</p>" for p in paragraphs[1:]],
        *[f'<p><img src="{name}" alt="{name}" style="max-width:100%"></p>' for name in images],
        "<h2>Accuracy (%) per noise level</h2>",
        pivot.to_html(border=0),
    ]
    style = "body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}" \
            "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
    return f"<!doctype html><html><head><meta charset='utf-8'><title>pushpull-viz demo</title><style>{style}</style>" \
           f"</head><body>{''.join(body)}</body></html>\n"
