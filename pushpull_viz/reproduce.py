"""Reproduce the paper's studies with this package: one command each, resumable.

**MNIST (section 4.1)**, :func:`reproduce_mnist`:

LeNets A-D (paper Table 1) with a plain and a push-pull first layer (h = 2, alpha = 1), several
seeds each, tested on clean digits, Gaussian noise of increasing variance (the grid includes the
paper's sigma^2 = 0.2) and Poisson noise with contrast reduction (the paper's Figures 4 and 5);
then an alpha / h sweep on LeNet-A, the analogue of the paper's Table 4.

``pushpull-viz reproduce mnist --out results/mnist`` writes into ``out``: ``raw/`` (one tidy CSV per
trained model), ``mnist_results.csv`` and ``sweep.csv`` (all rows), ``summary.csv`` (mean and spread
over seeds), the figures, ``commands.txt`` and ``README.md`` (tables next to the paper's numbers).
Training runs live in ``runs`` (default ``runs/reproduce-mnist-<epochs>ep``, not meant for version control):
finished runs are reused and unfinished ones resumed when the command is run again.

**CIFAR (section 4.2), on the offline JPEG-75 copy**, :func:`reproduce_cifar`: ResNet-20 and
ResNet-20-PP (h = 2, alpha = 1) trained as a pair (same seed, same initial weights apart from the
first layer's function, same batches), then tested on the clean test images and on all 19 x 5
CIFAR-10-C corruptions generated from them, beside any other checkpoints (e.g. the authors') on
the very same corrupted batches. ``pushpull-viz reproduce cifar10-jpeg75 --out results/cifar10-jpeg75``.
"""

from __future__ import annotations

import itertools
import os
import platform
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .corruptions import MNIST_SUITES
from .io import FolderLock, atomic_write_text, check_output_folder
from .report import markdown_table, save_figure
from .robustness import evaluate
from .train import Recipe, get_recipe, resolve_device, train_or_resume

__all__ = ["MNIST_MODELS", "StudyPlan", "export_study_weights", "reproduce_cifar", "reproduce_mnist",
           "study_plan"]

MNIST_MODELS = ("lenet-a", "lenet-b", "lenet-c", "lenet-d")


@dataclass(frozen=True)
class StudyPlan:
    """What the study trains and tests."""

    recipe: Recipe
    models: tuple[str, ...] = MNIST_MODELS
    seeds: tuple[int, ...] = (0, 1, 2)
    sweep_alphas: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0)
    sweep_scales: tuple[float, ...] = (1.0, 1.5, 2.0)
    sweep_model: str = "lenet-a"
    sweep_seeds: tuple[int, ...] | None = None  # None: the first of ``seeds``
    train_images: int | None = None  # None: all 60,000
    test_images: int | None = None  # None: all 10,000
    notes: list[str] = field(default_factory=list)


def study_plan(quick: bool = False, epochs: int | None = None, seeds=None, models=None, sweep: bool = True,
               sweep_seeds=None) -> StudyPlan:
    """The full study (paper recipe, 90 epochs, 3 seeds, 4 architectures, 4 x 3 sweep) or a quick
    one for CI (1 epoch of ``lenet-quick`` on 2,000 digits, LeNet-A, one seed, a 2-point sweep).
    ``epochs`` shortens the paper recipe (its lr milestones scale with it); ``sweep_seeds`` repeats
    the sweep over more seeds (default: the first of ``seeds`` only)."""
    if quick:
        plan = StudyPlan(get_recipe("lenet-quick", epochs=epochs or 1), models=("lenet-a",), seeds=(0,),
                         sweep_alphas=(0.5,), sweep_scales=(1.5, 2.0), train_images=2000, test_images=1000,
                         notes=["quick mode: a smoke test of the pipeline, not a result"])
    else:
        plan = StudyPlan(get_recipe("lenet-paper", epochs=epochs))
    if seeds is not None:
        plan = _replace(plan, seeds=tuple(int(s) for s in seeds))
    if models is not None:
        from .models import model_info

        names = tuple(model_info(m).name for m in models)
        bad = [m for m in names if m not in MNIST_MODELS]
        if bad:
            raise ValueError(f"models must be among {', '.join(MNIST_MODELS)}, got {bad}")
        plan = _replace(plan, models=names)
    if not sweep:
        plan = _replace(plan, sweep_alphas=(), sweep_scales=())
    if sweep_seeds is not None:
        if not sweep_seeds:
            raise ValueError("sweep_seeds must not be empty (leave it out for the first of seeds)")
        plan = _replace(plan, sweep_seeds=tuple(int(s) for s in sweep_seeds))
    if not plan.seeds:
        raise ValueError("seeds must not be empty")
    return plan


def _sweep_seeds(plan: StudyPlan) -> tuple[int, ...]:
    return plan.sweep_seeds if plan.sweep_seeds is not None else plan.seeds[:1]


def _replace(plan: StudyPlan, **changes) -> StudyPlan:
    import dataclasses

    return dataclasses.replace(plan, **changes)


def _paper_name(model: str, pushpull: bool) -> str:
    letter = model[-1].upper()
    return f"P{letter}" if pushpull else letter


def reproduce_mnist(out: str | os.PathLike = "results/mnist", data_root: str | os.PathLike | None = None,
                    plan: StudyPlan | None = None, runs: str | os.PathLike | None = None, device=None,
                    progress: bool = True, command: str | None = None,
                    export_weights: str | os.PathLike | None = None) -> dict[str, Any]:
    """Run the study of :func:`study_plan` (default: the full one) and write its results page.

    Args:
        out: results folder (tables, figures, ``README.md``).
        data_root: folder with ``MNIST/raw`` (default ``$PUSHPULL_DATA``).
        plan: what to run (:func:`study_plan`).
        runs: folder for the training runs (default ``runs/reproduce-mnist-<epochs>ep``, e.g.
            ``runs/reproduce-mnist-90ep``, or ``runs/reproduce-mnist-quick`` for a quick plan), so
            studies with different schedules never overwrite each other's runs.
        device: where to train (default: the best available).
        command: the command line to record (default: this process's).
        export_weights: a folder (e.g. ``pushpull_viz/weights``) into which to export, for each
            first layer of LeNet-A (plain, push-pull), the final weights of the seed with the best
            clean test accuracy, as ``lenet-a-paper.pt`` / ``lenet-a-pp-paper.pt`` with model cards
            (:func:`export_study_weights`).

    Returns:
        ``{"results", "sweep", "summary", "files", "seconds"}``.
    """
    import pandas as pd

    from .data import load_dataset

    started = time.perf_counter()
    plan = plan or study_plan()
    out = Path(out)
    quick = bool(plan.notes)
    default_runs = "reproduce-mnist-quick" if quick else f"reproduce-mnist-{plan.recipe.epochs}ep"
    runs = Path(runs) if runs is not None else Path("runs") / default_runs
    if export_weights is not None:
        check_output_folder(export_weights, "export_weights")
    # one process owns the results and the runs folder until the study is written
    with FolderLock(out, "results folder"), FolderLock(runs, "runs folder"):
        device = resolve_device(device)
        train = load_dataset("mnist", "train", data_root)
        test = load_dataset("mnist", "test", data_root)
        generator = torch.Generator().manual_seed(0)
        if plan.train_images:
            train = train.subset(torch.randperm(len(train), generator=generator)[:plan.train_images])
        if plan.test_images:
            test = test.subset(torch.randperm(len(test), generator=generator)[:plan.test_images])

        files: list[Path] = []
        trained: dict[tuple, Any] = {}
        run_rows: list[dict[str, Any]] = []

        def run(model: str, seed: int, alpha: float | None, scale: float | None) -> Any:
            """Train (or reuse) one configuration; alpha None = plain first layer."""
            key = (model, seed, alpha, scale)
            if key not in trained:
                build = {"pushpull": False} if alpha is None else {"pushpull": True, "alpha": alpha, "scale": scale}
                name = f"{model}_seed{seed}" if alpha is None else f"{model}-pp_a{alpha:g}_h{scale:g}_seed{seed}"
                folder = runs / name
                print(f"[{time.perf_counter() - started:6.0f} s] {folder.name}: {plan.recipe.name}, "
                      f"{plan.recipe.epochs} epochs, {len(train)} digits, {device}", flush=True)
                trained[key], history = train_or_resume(model, folder, (train, test), plan.recipe, seed, device,
                                                        progress, "mnist", **build)
                run_rows.append({"run": folder.name, "model": model, "pushpull": alpha is not None, "alpha": alpha,
                                 "scale": scale, "seed": seed, "epochs": len(history),
                                 "train_minutes": history["train_seconds"].sum() / 60,
                                 "final_test_accuracy": history["test_accuracy"].iloc[-1]})
            return trained[key]

        tested: dict[int, Any] = {}

        def test_model(model_obj, **columns) -> pd.DataFrame:
            if id(model_obj) not in tested:  # a reused run (h = 1, alpha = 0) is tested once: same noise, same numbers
                tested[id(model_obj)] = evaluate({"m": model_obj}, test.images, test.labels, MNIST_SUITES,
                                                 device=device, seed=0, progress=False).drop(columns="model")
            table = tested[id(model_obj)].copy()
            for index, (name, value) in enumerate(columns.items()):
                table.insert(index, name, value)
            return table

        tables = []
        for model in plan.models:
            for pushpull in (False, True):
                for seed in plan.seeds:
                    trained_model = run(model, seed, 1.0 if pushpull else None, 2.0 if pushpull else None)
                    table = test_model(trained_model, model=model, paper_name=_paper_name(model, pushpull),
                                       pushpull=pushpull, seed=seed)
                    raw = out / "raw" / f"{model}{'-pp' if pushpull else ''}_seed{seed}.csv"
                    files.append(atomic_write_text(raw, table.to_csv(index=False)))
                    tables.append(table)
        results = pd.concat(tables, ignore_index=True)
        files.append(atomic_write_text(out / "mnist_results.csv", results.to_csv(index=False)))

        sweep_rows = []
        for seed, alpha, scale in itertools.product(_sweep_seeds(plan), plan.sweep_alphas, plan.sweep_scales):
            # h = 1 makes the pull kernel the push kernel, so P(x) = x for x > 0 and alpha * x below; the
            # ReLU that LeNet applies next zeroes the negative part, so every alpha at h = 1 trains and
            # computes exactly the plain network (same seed, same initial weights; a test checks this).
            # Reuse the plain run instead of training it again.
            if scale == 1.0:
                trained_model = run(plan.sweep_model, seed, None, None)
            else:
                trained_model = run(plan.sweep_model, seed, alpha, scale)
            sweep_rows.append(test_model(trained_model, model=plan.sweep_model, alpha=alpha, scale=scale, seed=seed))
        if plan.sweep_alphas:
            # alpha = 0 is the plain network (LeNet's ReLU after the first layer makes ReLU(push) = ReLU(conv))
            for index, seed in enumerate(_sweep_seeds(plan)):
                plain = run(plan.sweep_model, seed, None, None)
                sweep_rows.insert(index, test_model(plain, model=plan.sweep_model, alpha=0.0, scale=float("nan"),
                                                    seed=seed))
        sweep = pd.concat(sweep_rows, ignore_index=True) if sweep_rows else pd.DataFrame()
        if len(sweep):
            files.append(atomic_write_text(out / "sweep.csv", sweep.to_csv(index=False)))

        runs_table = pd.DataFrame(run_rows)
        files.append(atomic_write_text(out / "runs.csv", runs_table.to_csv(index=False)))
        summary = _summarize(results)
        files.append(atomic_write_text(out / "summary.csv", summary.to_csv(index=False)))
        paired = _paired(results)
        files.append(atomic_write_text(out / "paired.csv", paired.to_csv(index=False)))
        files += _figures(results, sweep, out)
        command = command or " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).name, *sys.argv[1:]])
        seconds = time.perf_counter() - started
        files.append(atomic_write_text(out / "commands.txt", command + "\n"))
        context = {"plan": plan, "device": f"{device} ({platform.machine()}, {os.cpu_count()} CPU cores, torch "
                                          f"{torch.__version__})", "train": f"{train.name}, {len(train)} digits",
                   "test": f"{test.name}, {len(test)} digits", "seconds": seconds, "command": command,
                   "when": time.strftime("%Y-%m-%d"), "train_minutes": runs_table["train_minutes"].sum(),
                   "runs": len(runs_table)}
        files.append(atomic_write_text(out / "README.md", _page(summary, sweep, context, paired)))
        if export_weights is not None:
            files += export_study_weights(results, runs, plan, export_weights, command, out, context["device"])
        print(f"wrote {len(files)} files to {out} in {seconds:.0f} s")
        return {"results": results, "sweep": sweep, "summary": summary, "files": files, "seconds": seconds}


def export_study_weights(results, runs: str | os.PathLike, plan: StudyPlan, directory: str | os.PathLike,
                         command: str, out: str | os.PathLike, trained_on: str, model: str = "lenet-a") -> list[Path]:
    """Export the study's ``model`` (plain and push-pull) as shipped weights: for each, the final
    (last-epoch) weights of the seed with the best clean test accuracy, named ``<model>-paper`` and
    ``<model>-pp-paper``, with a card holding the recipe, the seed, why it was chosen and its
    accuracy under every noise level of the study. Picking the best of the seeds on the test set
    flatters the shipped model slightly; the study's tables report all seeds."""
    from .pretrained import export_weights as export
    from .pretrained import write_cards

    if model not in set(results["model"]):
        raise ValueError(f"the study has no {model!r} runs to export (models: {sorted(set(results['model']))})")
    written = []
    for pushpull in (False, True):
        part = results[(results.model == model) & (results.pushpull == pushpull)]
        clean = part[part.corruption == "clean"].set_index("seed")["accuracy"]
        seed = int(clean.idxmax())
        rows = part[part.seed == seed]
        folder = Path(runs) / (f"{model}_seed{seed}" if not pushpull else f"{model}-pp_a1_h2_seed{seed}")
        name = f"{model}{'-pp' if pushpull else ''}-paper"
        card = {
            "note": (f"the paper's recipe ({plan.recipe.epochs} epochs); final weights of seed {seed}, the best "
                     f"clean test accuracy of seeds {sorted(int(s) for s in clean.index)} "
                     f"({', '.join(f'{100 * a:.2f}%' for a in clean.sort_index())}); chosen on the test set"),
            "study": f"{Path(out).as_posix()}/README.md",
            "data": f"MNIST ({plan.train_images or 60000:,} training digits; tested on the "
                    f"{plan.test_images or 10000:,} test digits)",
            "commands": [command],
            "trained_by": f"pushpull-viz (this project), on {trained_on}",
            "test_accuracy_percent": {
                f"{r.corruption} s{r.severity} (level {'-' if r.level != r.level else r.level})":
                    round(100 * r.accuracy, 2)
                for r in rows.itertuples()
            },
        }
        written.append(export(folder / "last.pt", Path(directory) / f"{name}.pt", card))
    written.append(write_cards(directory))
    return written


def _per_seed(results):
    """One row per trained model: clean accuracy, accuracy at sigma^2 = 0.2 and the mean accuracy
    over each suite's levels."""
    import pandas as pd

    rows = []
    for (model, name, pushpull, seed), runs in results.groupby(["model", "paper_name", "pushpull", "seed"], sort=False):
        gauss = runs[runs.corruption == "mnist_gaussian_noise"]
        rows.append({
            "model": model, "paper_name": name, "pushpull": pushpull, "seed": seed,
            "clean": runs[runs.corruption == "clean"]["accuracy"].iloc[0],
            "gauss_0.2": gauss[gauss.level.astype(float).round(6) == 0.2]["accuracy"].iloc[0],
            "gauss_mean": gauss["accuracy"].mean(),
            "poisson_mean": runs[runs.corruption == "mnist_poisson_contrast"]["accuracy"].mean(),
        })
    return pd.DataFrame(rows)


METRICS = ("clean", "gauss_0.2", "gauss_mean", "poisson_mean")


def _paired(results):
    """Push-pull minus plain, per architecture, paired by seed, in points: mean, sample standard
    deviation and the number of seeds where push-pull is ahead. A seed pairs the two runs fully:
    same initial weights everywhere (the push kernel is drawn exactly like the plain conv) and
    the same batches in the same order, so only the first layer's function differs."""
    import pandas as pd

    per_seed = _per_seed(results)
    rows = []
    for model, part in per_seed.groupby("model", sort=False):
        plain = part[~part.pushpull].set_index("seed")
        pushpull = part[part.pushpull].set_index("seed")
        seeds = plain.index.intersection(pushpull.index)
        if not len(seeds):
            continue
        row = {"model": model, "pair": f"P{model[-1].upper()} - {model[-1].upper()}", "seeds": len(seeds)}
        for metric in METRICS:
            diff = 100 * (pushpull.loc[seeds, metric] - plain.loc[seeds, metric])
            row[f"{metric}_diff_mean"] = diff.mean()
            row[f"{metric}_diff_std"] = diff.std(ddof=1) if len(diff) > 1 else float("nan")
            row[f"{metric}_pp_ahead"] = int((diff > 0).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _summarize(results):
    """Mean and sample standard deviation over seeds of clean accuracy, accuracy at sigma^2 = 0.2,
    and the mean accuracy over each suite's levels, per architecture and first layer."""
    import pandas as pd

    rows = []
    for (model, name), part in _per_seed(results).groupby(["model", "paper_name"], sort=False):
        frame = part[list(METRICS)]
        row = {"model": model, "paper_name": name, "seeds": len(frame)}
        for column in frame:
            row[f"{column}_mean"] = 100 * frame[column].mean()
            row[f"{column}_std"] = 100 * frame[column].std(ddof=1) if len(frame) > 1 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def _figures(results, sweep, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    files = []
    frame = results[results.corruption != "clean"].copy()
    frame["accuracy (%)"] = 100 * frame["accuracy"]
    frame["first layer"] = frame["pushpull"].map({False: "plain", True: "push-pull"})
    models = list(dict.fromkeys(frame["model"]))
    titles = {"mnist_gaussian_noise": ("Gaussian noise (paper Fig. 4)", "noise variance sigma^2"),
              "mnist_poisson_contrast": ("Poisson noise + contrast (paper Fig. 5)", "contrast C")}
    fig, axes = plt.subplots(2, len(models), figsize=(3.4 * len(models), 6.4), squeeze=False, sharey="row")
    for row, (suite, (title, xlabel)) in enumerate(titles.items()):
        for column, model in enumerate(models):
            ax = axes[row, column]
            part = frame[(frame.corruption == suite) & (frame.model == model)]
            sns.lineplot(part, x="level", y="accuracy (%)", hue="first layer", errorbar="sd", marker="o", ax=ax,
                         legend=(row == 0 and column == 0))
            ax.set(title=f"{model}: {title}", xlabel=xlabel)
            ax.title.set_fontsize(9)
            if suite == "mnist_poisson_contrast":
                ax.invert_xaxis()
    fig.suptitle("MNIST test accuracy under noise: mean and standard deviation over seeds", fontsize=11)
    fig.tight_layout()
    files.append(save_figure(fig, out / "accuracy_vs_noise.png"))
    if len(sweep):
        gauss = sweep[sweep.corruption == "mnist_gaussian_noise"]
        at = gauss[gauss.level.astype(float).round(6) == 0.2].copy()
        at["h"] = at["scale"].map(lambda v: "plain (alpha=0)" if v != v else f"h={v:g}")
        table = (100 * at.pivot_table(index="alpha", columns="h", values="accuracy")).round(2)
        fig, ax = plt.subplots(figsize=(1.6 + 1.3 * table.shape[1], 0.9 + 0.5 * table.shape[0]))
        sns.heatmap(table, annot=True, fmt=".1f", cmap="viridis", cbar_kws={"label": "accuracy (%)"}, ax=ax)
        seeds = sorted(set(sweep["seed"]))
        ax.set_title(f"LeNet-A-PP at sigma^2 = 0.2: alpha x h (cf. paper Table 4)\n"
                     f"{'seed ' if len(seeds) == 1 else 'mean over seeds '}{', '.join(map(str, seeds))}", fontsize=10)
        files.append(save_figure(fig, out / "sweep_alpha_h.png"))
    return files


def _page(summary, sweep, context, paired=None) -> str:
    import pandas as pd

    from .paper import paper_mnist

    plan = context["plan"]
    paper = paper_mnist()
    shown = []
    for row in summary.to_dict("records"):
        reported = paper[paper["model"] == row["paper_name"]]
        clean = reported[reported.corruption == "clean"]["accuracy"]
        at = reported[reported.corruption == "mnist_gaussian_noise"]["accuracy"]

        def cell(mean, std):
            return f"{mean:.2f}" + ("" if std != std else f" ± {std:.2f}")

        shown.append({
            "model": row["paper_name"], "seeds": row["seeds"],
            "clean (%)": cell(row["clean_mean"], row["clean_std"]),
            "paper clean (%)": f"{100 * clean.iloc[0]:.2f}" if len(clean) else "",
            "sigma^2=0.2 (%)": cell(row["gauss_0.2_mean"], row["gauss_0.2_std"]),
            "paper sigma^2=0.2 (%)": f"{100 * at.iloc[0]:.2f}" if len(at) else "",
            "Gaussian, mean over levels (%)": cell(row["gauss_mean_mean"], row["gauss_mean_std"]),
            "Poisson+contrast, mean (%)": cell(row["poisson_mean_mean"], row["poisson_mean_std"]),
        })
    lines = [
        "# The paper's MNIST study, rerun with pushpull-viz",
        "",
        "Generated by `pushpull_viz.reproduce.reproduce_mnist` (the command below); do not edit by hand.",
        "",
        f"- Command: `{context['command']}`",
        f"- Date: {context['when']}; device: {context['device']}",
        f"- Time: {context['train_minutes']:.1f} min of training over {context['runs']} runs (summed from the runs' "
        f"`metrics.csv`, so it counts resumed runs whole; `runs.csv` lists them); this invocation took "
        f"{context['seconds'] / 60:.1f} min",
        f"- Recipe: `{plan.recipe.name}`, {plan.recipe.epochs} epochs, batch {plan.recipe.batch_size}, lr "
        f"{plan.recipe.lr} ({plan.recipe.schedule}, milestones {list(plan.recipe.milestones)}), Nesterov momentum "
        f"{plan.recipe.momentum}, weight decay {plan.recipe.weight_decay}",
        f"- Models: {', '.join(plan.models)}, plain and push-pull (h = 2, alpha = 1); seeds {list(plan.seeds)}",
        f"- Training data: {context['train']}; test data: {context['test']}",
        "- Noise: `mnist_gaussian_noise` (variance of Gaussian noise added to [0, 1] images, clipped) and "
        "`mnist_poisson_contrast` (contrast C, then Poisson noise), one fixed noise draw per level for all models",
        *[f"- Note: {note}" for note in plan.notes],
        "",
        "## Accuracy, mean ± standard deviation over seeds, next to the paper's reported numbers",
        "",
        "The paper states clean accuracy and accuracy at sigma^2 = 0.2 as numbers (section 4.1.2); the rest of "
        "its MNIST results are curves (Figures 4, 5).",
        "",
        markdown_table(pd.DataFrame(shown)),
        "",
    ]
    if paired is not None and len(paired):
        def diff(row, metric):
            text = f"{row[f'{metric}_diff_mean']:+.2f}"
            if row[f"{metric}_diff_std"] == row[f"{metric}_diff_std"]:
                text += f" ± {row[f'{metric}_diff_std']:.2f}"
            return text + f" ({row[f'{metric}_pp_ahead']}/{row['seeds']})"

        lines += [
            "## Push-pull minus plain, paired by seed (points)",
            "",
            "Runs with the same seed start from the same initial weights (the push kernel is drawn exactly "
            "like the plain convolution) and see the same batches in the same order, so each pair differs only "
            "in the first layer's function. Mean ± standard deviation of the per-seed differences, and in "
            "brackets the number of seeds on which push-pull is ahead.",
            "",
            markdown_table(pd.DataFrame([{
                "pair": row["pair"], "clean": diff(row, "clean"), "sigma^2=0.2": diff(row, "gauss_0.2"),
                "Gaussian, mean over levels": diff(row, "gauss_mean"),
                "Poisson+contrast, mean": diff(row, "poisson_mean"),
            } for row in paired.to_dict("records")])),
            "",
        ]
    lines += [
        "![accuracy vs noise](accuracy_vs_noise.png)",
        "",
    ]
    if len(sweep):
        gauss = sweep[sweep.corruption == "mnist_gaussian_noise"]
        at = gauss[gauss.level.astype(float).round(6) == 0.2].copy()
        at["h"] = at["scale"].map(lambda v: "plain (alpha=0)" if v != v else f"h={v:g}")
        table = (100 * at.pivot_table(index="alpha", columns="h", values="accuracy")).round(2)
        table = table.astype(object).where(table.notna(), "").reset_index()
        seeds = sorted(set(sweep["seed"]))
        which = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {', '.join(map(str, seeds))}; mean over seeds"
        spread = []
        if len(seeds) > 1:
            std = (100 * at.pivot_table(index="alpha", columns="h", values="accuracy", aggfunc="std")).round(2)
            spread = ["Standard deviation over seeds (points):", "",
                      markdown_table(std.astype(object).where(std.notna(), "").reset_index()), ""]
        lines += [
            f"## alpha x h sweep on {plan.sweep_model} ({which}), accuracy (%) at sigma^2 = 0.2",
            "",
            "alpha = 0 is the plain network (LeNet applies a ReLU after its first layer, so a push-pull layer "
            "with alpha = 0 computes the same function). For the same reason h = 1 (pull kernel = push kernel) "
            "is the plain network for every alpha: its column reuses the plain run, it is not trained again. "
            "The paper's Table 4 is the analogous sweep for a ResNet-14 on CIFAR-10.",
            "",
            markdown_table(table),
            "",
            *spread,
            "![sweep](sweep_alpha_h.png)",
            "",
        ]
    lines += ["Files: `raw/` (one tidy CSV per trained model), `mnist_results.csv`, `sweep.csv`, `summary.csv`, "
              "`paired.csv` (push-pull minus plain per seed pair), "
              "`runs.csv` (one row per training run: epochs, training minutes, final test accuracy), "
              "`commands.txt`.", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ CIFAR

def reproduce_cifar(out: str | os.PathLike = "results/cifar10-jpeg75", data_root: str | os.PathLike | None = None,
                    recipe: str | Recipe = "resnet-gpu", epochs: int | None = None, seed: int = 0,
                    runs: str | os.PathLike | None = None, device=None, others: dict[str, str] | None = None,
                    model: str = "resnet20", train_images: int | None = None, test_images: int | None = None,
                    progress: bool = True, command: str | None = None) -> dict[str, Any]:
    """Train ``model`` plain and push-pull (h = 2, alpha = 1) as a pair on the JPEG-75 copy of
    CIFAR-10, test both (and the checkpoints in ``others``) on the clean test images and on
    CIFAR-10-C generated from them, and write the tables.

    The pair shares the seed, hence the initial weights (the push kernel is drawn exactly like the
    plain convolution) and the batches in the same order: only the first layer's function differs.
    Every model sees the same corrupted batches (:func:`~pushpull_viz.robustness.evaluate`).

    Args:
        out: results folder: ``results.csv`` (tidy: model x corruption x severity), ``summary.csv``
            (clean error, E_corr, mCE, relative mCE per model), ``epochs.csv`` (per-epoch logs of
            both runs), ``runs.csv``, ``context.json`` (device, versions, times) and ``commands.txt``.
        data_root: folder holding ``cifar10-jpeg75/`` (default ``$PUSHPULL_DATA``).
        recipe, epochs: the training recipe (:data:`~pushpull_viz.train.RECIPES`) and its epochs.
        seed: the pair's seed (initialisation, batches, augmentation) and the corruption seed.
        runs: folder of the two training runs (default ``runs/cifar10-jpeg75-<recipe>-<epochs>ep``);
            finished runs are reused, unfinished ones resumed.
        device: where to train and test (default: the best available).
        others: ``{label: checkpoint path}`` tested beside the pair, e.g. the authors' checkpoints.
        model: the architecture (default ``"resnet20"``).
        train_images, test_images: random subsets (a smoke run; the results then say so).
        command: the command line to record.

    Returns:
        ``{"results", "summary", "epochs", "files", "seconds"}``.
    """
    import json

    import pandas as pd

    from .data import load_dataset
    from .models import load_model_from_checkpoint
    from .robustness import summary_table

    started = time.perf_counter()
    recipe = get_recipe(recipe, **({} if epochs is None else {"epochs": epochs}))
    out = Path(out)
    runs = Path(runs) if runs is not None else Path("runs") / f"cifar10-jpeg75-{recipe.name}-{recipe.epochs}ep"
    with FolderLock(out, "results folder"), FolderLock(runs, "runs folder"):
        device = resolve_device(device)
        train = load_dataset("cifar10-jpeg75", "train", data_root)
        test = load_dataset("cifar10-jpeg75", "test", data_root)
        generator = torch.Generator().manual_seed(seed)
        if train_images:
            train = train.subset(torch.randperm(len(train), generator=generator)[:train_images])
        if test_images:
            test = test.subset(torch.randperm(len(test), generator=generator)[:test_images])
        models, run_rows, histories = {}, [], []
        for pushpull in (False, True):
            label = f"{_paper_label(model, pushpull)} (this project)"
            folder = runs / (f"{model}-pp_a1_h2_seed{seed}" if pushpull else f"{model}_seed{seed}")
            build = {"pushpull": True, "alpha": 1.0, "scale": 2.0} if pushpull else {"pushpull": False}
            print(f"[{time.perf_counter() - started:6.0f} s] {folder.name}: {recipe.name}, {recipe.epochs} epochs, "
                  f"{len(train)} images, {device}", flush=True)
            models[label], history = train_or_resume(model, folder, (train, test), recipe, seed, device, progress,
                                                     "cifar10-jpeg75", **build)
            histories.append(history.assign(model=label))
            run_rows.append({"model": label, "run": folder.as_posix(), "pushpull": pushpull, "seed": seed,
                             "epochs": len(history), "train_seconds": float(history["train_seconds"].sum()),
                             "final_test_accuracy": float(history["test_accuracy"].iloc[-1])})
        for label, path in (others or {}).items():
            models[label] = load_model_from_checkpoint(path, map_location="cpu")
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        tested = time.perf_counter()
        results = evaluate(models, test.images, test.labels, ["cifar10-c"], device=device, seed=seed,
                           batch_size=recipe.eval_batch_size, progress=progress)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        test_seconds = time.perf_counter() - tested
        summary = summary_table(results)
        epochs_table = pd.concat(histories, ignore_index=True)
        files = [atomic_write_text(out / "results.csv", results.to_csv(index=False)),
                 atomic_write_text(out / "summary.csv", summary.to_csv(index=False)),
                 atomic_write_text(out / "epochs.csv", epochs_table.to_csv(index=False)),
                 atomic_write_text(out / "runs.csv", pd.DataFrame(run_rows).to_csv(index=False))]
        sets = results[["corruption", "severity"]].drop_duplicates().shape[0]
        command = command or " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).name, *sys.argv[1:]])
        context = {
            "when": time.strftime("%Y-%m-%d"), "command": command, "recipe": recipe.to_dict(), "seed": seed,
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"{device} "
                      f"({platform.machine()}, {os.cpu_count()} CPU cores)",
            "torch": torch.__version__, "train_images": len(train), "test_images": len(test),
            "data": "the JPEG-75 copy of CIFAR-10 (not CIFAR-10): trained on its train split, tested on its "
                    "test split and on CIFAR-10-C corruptions generated from it",
            "test_sets": int(sets), "models_tested": list(models),
            "test_seconds": test_seconds, "test_images_per_second_per_model": sets * len(test) / test_seconds,
            "seconds": time.perf_counter() - started,
        }
        files.append(atomic_write_text(out / "context.json", json.dumps(context, indent=2)))
        files.append(atomic_write_text(out / "commands.txt", command + "\n"))
        print(summary.assign(clean_error=100 * summary["clean_error"],
                             corruption_error=100 * summary["corruption_error"]).round(2).to_string(index=False))
        print(f"tested {len(models)} models on {sets} sets of {len(test)} images in {test_seconds:.1f} s; "
              f"wrote {len(files)} files to {out} in {context['seconds']:.0f} s")
        return {"results": results, "summary": summary, "epochs": epochs_table, "files": files,
                "seconds": context["seconds"]}


def _paper_label(model: str, pushpull: bool) -> str:
    from .paper import paper_model_name

    name = paper_model_name(model) or model
    return f"{name}-PP" if pushpull else name
