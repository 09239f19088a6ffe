"""The main job: train a LeNet and a push-pull LeNet on MNIST, test both on noisy digits, write a report.

``pushpull-viz demo`` (``make demo``) calls :func:`run_demo`. On a laptop CPU it takes a few
minutes. Runs are saved under ``<out>/runs/`` and reused or resumed when the demo is run
again; every file is written atomically.
"""

from __future__ import annotations

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
from .report import markdown_table, render_html, save_figure
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
        training_started = time.perf_counter()
        for label, build in runs.items():
            print(f"{label}: training on {train.name} ({len(train)} images, {recipe.epochs} epochs, {device}), or "
                  f"reusing a finished run in {out / 'runs' / label.lower()}")
            models[label], histories[label] = train_or_resume(
                model, out / "runs" / label.lower(), (train, test), recipe, seed, device, progress, "mnist", **build)
        training_seconds = time.perf_counter() - training_started

        print(f"testing on {test.name} ({len(test)} images): clean and {', '.join(MNIST_SUITES)}")
        results = evaluate(models, test.images, test.labels, MNIST_SUITES, device=device, seed=seed, progress=progress)
        results.insert(1, "dataset", test.name)

        files = []
        results_csv = atomic_write_text(out / "robustness.csv", results.to_csv(index=False))
        files.append(results_csv)
        figures = {
            "training_curves.png": plot_training_curves(histories),
            "accuracy_vs_noise.png": plot_accuracy_vs_level(results, MNIST_SUITES, AXIS_LABELS, TITLES),
        }
        examples = test.images[:6]
        for name in MNIST_SUITES:
            figures[f"examples_{name}.png"] = plot_corruption_examples(examples, name, seed=seed, title=TITLES[name])
        for filename, figure in figures.items():
            files.append(save_figure(figure, out / filename))

        summary = _summary(results, histories)
        atomic_write_text(out / "summary.csv", summary.to_csv(index=False))
        files.append(out / "summary.csv")
        seconds = time.perf_counter() - started
        pushpull_layer = models[f"{pretty}-PP"].get_submodule(model_info(model).first_layer)
        trained = sum(float(h["train_seconds"].sum()) for h in histories.values())
        context = {
            "when": time.strftime("%Y-%m-%d %H:%M"),
            "device": f"{device} ({platform.processor() or platform.machine()}, torch {torch.__version__}, "
                      f"{torch.get_num_threads()} threads)",
            "recipe": recipe,
            "seed": seed,
            "model": pretty,
            "train": f"{train.name}, {len(train):,} images",
            "test": f"{test.name}, {len(test):,} images",
            "seconds": seconds,
            "trained_seconds": trained,
            "reused": training_seconds < 0.5 * trained,  # the runs were trained by an earlier invocation
            # as built (the layer's own defaults when alpha / scale were not given)
            "alpha": float(pushpull_layer.alpha),
            "scale": pushpull_layer.scale,
        }
        report = _report_markdown(summary, context)
        files.append(atomic_write_text(out / "report.md", report))
        files.append(atomic_write_text(out / "report.html", render_html(report, TITLE)))
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
            "Gaussian noise σ² = 0.2 (%)": round(100 * at_02.iloc[0], 2) if len(at_02) else None,
            "Gaussian noise, mean over levels (%)": round(100 * gauss["accuracy"].mean(), 2),
            "Poisson + contrast, mean over levels (%)": round(100 * poisson["accuracy"].mean(), 2),
            "training time (s)": round(float(history["train_seconds"].sum()), 1),
        })
    return pd.DataFrame(rows)


TITLE = "Does a push-pull first layer make a LeNet more robust to noise?"
TITLES = {"mnist_gaussian_noise": "Gaussian noise", "mnist_poisson_contrast": "Poisson noise with lower contrast"}
AXIS_LABELS = {"mnist_gaussian_noise": "noise variance σ²", "mnist_poisson_contrast": "contrast C (lower is harder)"}
#: the project's 3-seed study with the paper's recipe, when this is a repository checkout
STUDY = Path(__file__).resolve().parents[1] / "results" / "mnist" / "summary.csv"


def _answer(summary, context) -> list[str]:
    """The report's answer in words: this run, then the project's study and the paper beside it."""
    from .paper import paper_mnist

    name = context["model"]
    plain, pushpull = summary.iloc[0], summary.iloc[1]
    column = "Gaussian noise σ² = 0.2 (%)"
    gap = pushpull[column] - plain[column]
    if abs(gap) < 2:
        verdict = "not clearly: the two are within 2 points of each other"
    else:
        verdict = f"{'yes' if gap > 0 else 'no'}, in this run: push-pull is {abs(gap):.1f} points " + \
                  ("ahead" if gap > 0 else "behind")
    lines = [f"**This run's answer: {verdict}** at σ² = 0.2 ({name}-PP {pushpull[column]:.2f}% against {name} "
             f"{plain[column]:.2f}%; clean {pushpull['clean accuracy (%)']:.2f}% against "
             f"{plain['clean accuracy (%)']:.2f}%). One seed of a short recipe cannot tell an effect of a few points "
             "from the spread between seeds."]
    paper = paper_mnist().set_index(["model", "corruption"])
    letter = name.split("-")[-1]
    try:
        on_paper = (100 * paper.loc[(letter, "mnist_gaussian_noise"), "accuracy"],
                    100 * paper.loc[(f"P{letter}", "mnist_gaussian_noise"), "accuracy"])
    except KeyError:
        on_paper = None
    if STUDY.is_file():
        import pandas as pd

        study = pd.read_csv(STUDY).set_index("paper_name")
        if letter in study.index and f"P{letter}" in study.index:
            a, p = study.loc[letter], study.loc[f"P{letter}"]
            lines.append(f"For comparison, this project's study with the paper's recipe (90 epochs, 3 seeds, "
                         f"`results/mnist`) measured {name}-PP {p['gauss_0.2_mean']:.1f} ± {p['gauss_0.2_std']:.1f}% "
                         f"against {name} {a['gauss_0.2_mean']:.1f} ± {a['gauss_0.2_std']:.1f}% at σ² = 0.2.")
    if on_paper is not None:
        lines.append(f"The paper reports {on_paper[1]:.1f}% against {on_paper[0]:.1f}% (one run each, section 4.1.2).")
    return lines


def _report_markdown(summary, context) -> str:
    recipe = context["recipe"]
    name = context["model"]
    if context["reused"]:
        timing = (f"This invocation took {context['seconds']:.0f} s; it reused training runs finished earlier, "
                  f"whose training took {context['trained_seconds']:.0f} s.")
    else:
        timing = (f"The whole demo took {context['seconds']:.0f} s, of which {context['trained_seconds']:.0f} s "
                  "of training.")
    noise = {n: corruption_info(n) for n in MNIST_SUITES}
    return "\n".join([
        f"# {TITLE}",
        "",
        *[f'<div class="answer" markdown="1">\n{line}\n</div>\n' if i == 0 else f"{line}\n"
          for i, line in enumerate(_answer(summary, context))],
        "## What was compared",
        "",
        f"- **{name}**: the paper's LeNet-A (two convolutions with 6 and 16 channels, then 128, 64 and 10 units).",
        f"- **{name}-PP**: the same network whose first convolution is a **push-pull layer** (Strisciuglio et al. "
        "2020). Each kernel's rectified response has subtracted from it alpha times the rectified response of an "
        f"inverted copy of the kernel, up-sampled {context['scale']:g}x (alpha = {context['alpha']:g}).",
        f"- Both trained the same way, from the same seed ({context['seed']}), on {context['train']}, and tested "
        f"on {context['test']} with noise drawn once: both models see the same noisy images.",
        "",
        "## Results",
        "",
        markdown_table(summary),
        "",
        "Accuracy in % on the test digits. Gaussian noise and Poisson noise: means over the levels in the figures "
        "below.",
        "",
        "![accuracy against the noise level](accuracy_vs_noise.png)",
        "",
        "*Accuracy against the noise level, one line per model; dotted lines: clean accuracy. Left: Gaussian noise of "
        "variance σ² added to the digits (0.2 is the level the paper quotes). Right: Poisson noise on digits "
        "whose contrast C is reduced (lower C is harder). Both panels share the y-axis.*",
        "",
        "![training curves](training_curves.png)",
        "",
        "*Training loss and clean test accuracy per epoch: did both models train to a similar clean accuracy?*",
        "",
        *[line for n in MNIST_SUITES for line in (
            f"![{TITLES[n]}](examples_{n}.png)", "",
            f"*{TITLES[n]} on the first test digits, one column per level "
            f"({noise[n].parameter.replace('sigma^2', 'σ²')}).*", "")],
        "## How it was measured",
        "",
        f"`pushpull-viz demo` on {context['when']}: {context['device']}. Recipe `{recipe.name}` ({recipe.epochs} "
        f"epochs, batch {recipe.batch_size}, one-cycle learning rate up to {recipe.lr}). {timing}",
        "",
        "Terms: a noise **level** is the noise's parameter (the variance σ², or the contrast C); its **severity** "
        "is the level's number, 1 for the mildest, in the CSV files. " + " ".join(
            f"{TITLES[n]}: {noise[n].parameter.replace('sigma^2', 'σ²')} in {list(noise[n].levels)}; "
            f"{noise[n].note.replace('sigma^2', 'σ²')}." for n in MNIST_SUITES),
        "",
        "Raw numbers: `robustness.csv` (one row per model, noise and level), `summary.csv`, `runs/*/metrics.csv` "
        "(per epoch).",
        "",
    ])
