"""Command line: ``pushpull-viz <command> --help``.

Errors are printed as one line (no traceback) with exit code 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _cmd_models(args: argparse.Namespace) -> None:
    from .models import MODELS

    for name in sorted(MODELS):
        info = MODELS[name]
        print(f"{name:<16} {info.dataset:<8} input {'x'.join(map(str, info.input_shape)):<8} {info.description}")


def _cmd_official(args: argparse.Namespace) -> None:
    """Evaluate the authors' checkpoints on the offline JPEG-75 CIFAR-10 copy."""
    import torch

    from .data import CIFAR10_CLASSES, CIFAR10_JPEG75_LABEL, ImageTensors, load_cifar10_jpeg75
    from .io import check_output_folder
    from .models import load_model_from_checkpoint, model_info
    from .train import evaluate_accuracy

    check_output_folder(args.out, "--out")
    folder = Path(args.checkpoints)
    files = sorted(folder.glob("*/model_best.pth.tar"))
    if not files:
        raise FileNotFoundError(f"no */model_best.pth.tar under {folder} (pass --checkpoints)")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    images, labels = load_cifar10_jpeg75("test", args.data_root, per_class=args.per_class)
    data = ImageTensors(images, labels, CIFAR10_CLASSES, f"{CIFAR10_JPEG75_LABEL} test")
    rows = []
    for path in files:
        model = load_model_from_checkpoint(path).eval()
        start = time.perf_counter()
        accuracy, _ = evaluate_accuracy(model, data, args.batch_size, device="cpu")
        rows.append({
            "checkpoint": path.parent.name, "model": model.model_name,
            "first_layer": type(model.get_submodule(model_info(model.model_name).first_layer)).__name__,
            "dataset": CIFAR10_JPEG75_LABEL, "n_images": len(images),
            "accuracy_percent": round(100 * accuracy, 2),
            "best_prec1_reported": model.checkpoint_meta.get("best_prec1"),
            "seconds": round(time.perf_counter() - start, 1),
        })
        print(f"{rows[-1]['checkpoint']:<20} {rows[-1]['accuracy_percent']:6.2f}% on {len(images)} test images of "
              f"the {CIFAR10_JPEG75_LABEL}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = out / "official_checkpoints.csv"
    tmp = table.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, table)
    print(f"wrote {table}")


def _subset(data, n: int | None, seed: int):
    """A random subset of ``n`` images (fixed by ``seed``), or all."""
    import torch

    if n is None or n >= len(data):
        return data
    if n < 1:
        raise ValueError(f"subset sizes must be positive, got {n}")
    return data.subset(torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n])


def _check_fits(model_name: str, data) -> None:
    from .models import model_info

    expected, shape = tuple(model_info(model_name).input_shape), tuple(data.image_shape)
    if not _fits(model_name, shape):
        raise ValueError(f"model {model_name} takes {'x'.join(map(str, expected))} images but {data.name} has "
                         f"{'x'.join(map(str, shape))} images (pick a matching --dataset or --model)")


def _default_recipe(model_name: str) -> str:
    if model_name.startswith("lenet"):
        return "lenet-paper"
    if model_name.startswith("tv-"):
        return "imagenet-torchvision"
    return "densenet-paper" if model_name.startswith("densenet") else "resnet-paper"


def _train_data(args: argparse.Namespace, name: str, recipe):
    """(train, test, class names, test label): in memory (``ImageTensors``), or streamed through ``DataLoader``
    workers with the ImageNet pipeline for a torchvision model on a ``folder:PATH`` dataset."""
    from .data import folder_dataloader, folder_split, load_dataset
    from .models import model_info

    if model_info(name).dataset == "imagenet" and args.dataset.startswith("folder:"):
        if args.train_subset or args.test_subset:
            raise ValueError("--train-subset and --test-subset work with in-memory datasets, not with a streamed "
                             "folder: make a smaller folder instead")
        size = args.image_size or model_info(name).input_shape[-1]
        workers = args.workers if args.workers is not None else min(8, os.cpu_count() or 1)
        options = dict(pipeline="imagenet", image_size=size, num_workers=workers, seed=args.seed)
        train = folder_dataloader(folder_split(args.dataset, "train"), recipe.batch_size, train=True, **options)
        test = folder_dataloader(folder_split(args.dataset, "test"), recipe.eval_batch_size, train=False, **options)
        if test.dataset.classes != train.dataset.classes:
            raise ValueError(f"--dataset {args.dataset}: the train and test folders hold different classes")
        return train, test, train.dataset.classes, f"{test.name}, {size}x{size}"
    if args.image_size is not None:
        raise ValueError("--image-size applies to torchvision models (tv-*) on folder:PATH datasets")
    train = _subset(load_dataset(args.dataset, "train", args.data_root, download=args.download), args.train_subset,
                    args.seed)
    test = _subset(load_dataset(args.dataset, "test", args.data_root, download=args.download), args.test_subset,
                   args.seed)
    _check_fits(name, train)
    return train, test, train.classes, test.name


def _cmd_train(args: argparse.Namespace) -> None:
    import contextlib

    from . import distributed
    from .io import FolderLock
    from .models import build_model, model_info
    from .models.torchvision_models import load_backbone_weights
    from .train import fit, get_recipe, resolve_device, seed_everything

    if not args.pushpull and (args.trainable_alpha or args.alpha is not None or args.scale is not None
                              or args.pushpull_layers):
        raise ValueError("--alpha, --scale, --trainable-alpha and --pushpull-layers need --pushpull")
    name = model_info(args.model).name
    build = {}
    if args.pushpull_layers:
        if not name.startswith("tv-"):
            raise ValueError("--pushpull-layers applies to torchvision models (tv-*); the paper's models put "
                             "push-pull in the first layer")
        layers = args.pushpull_layers
        build["pushpull_layers"] = layers if layers in ("first", "all") else [n for n in layers.split(",") if n]
    recipe = get_recipe(args.recipe or _default_recipe(name), epochs=args.epochs, batch_size=args.batch_size,
                        lr=args.lr)
    device = distributed.init_from_env(resolve_device(args.device))
    try:
        main = distributed.is_main()
        with contextlib.ExitStack() as stack:
            # the run folder is checked and owned (by rank 0) before any data is loaded; a failure on any rank
            # stops every rank with one line
            with distributed.together("checking --out and loading the data"):
                if main:
                    stack.enter_context(FolderLock(args.out, "--out"))
                train, test, classes, test_name = _train_data(args, name, recipe)
            seed_everything(args.seed)
            model = build_model(name, pushpull=args.pushpull, alpha=args.alpha, scale=args.scale,
                                trainable_alpha=args.trainable_alpha, num_classes=len(classes), **build)
            if args.init_from and not args.resume:
                kept = load_backbone_weights(model, args.init_from)
                if main:
                    print(f"initialised from {args.init_from}" + (f" (kept fresh: {', '.join(kept)})" if kept else ""))
            result = fit(model, (train, test), recipe, out=args.out, resume=args.resume,
                         overwrite=args.overwrite, device=device, seed=args.seed, amp=args.amp,
                         channels_last=args.channels_last, compile=args.compile, sync_batchnorm=args.sync_bn,
                         progress=not args.no_progress, dataset=args.dataset)
            best = ("n/a" if result.best_accuracy is None
                    else f"{100 * result.best_accuracy:.2f}% (epoch {result.best_epoch})")
            if main:
                print(f"done: best test accuracy {best} on {test_name}; {result.train_seconds:.1f} s of training; "
                      f"checkpoints and metrics in {args.out}")
    finally:
        distributed.shutdown()


def _model_labels(paths: list[str]) -> list[str]:
    """Short unique names for checkpoint files: the run folder for generic file names."""
    generic = {"last.pt", "best.pt", "model_best.pth.tar", "checkpoint.pth.tar"}
    labels = [Path(p).parent.name if Path(p).name in generic and Path(p).parent.name else Path(p).name
              for p in paths]
    if len(set(labels)) < len(labels):
        return [str(p) for p in paths]
    return labels


def _fits(model_name: str, image_shape) -> bool:
    """Whether a model takes images of ``image_shape``: exactly, or any size of 32 and up with the same
    channels for torchvision classifiers."""
    from .models import model_info

    info = model_info(model_name)
    shape, expected = tuple(image_shape), tuple(info.input_shape)
    if info.dataset == "imagenet":
        return shape[0] == expected[0] and min(shape[1:]) >= 32
    return shape == expected


def _load_models(paths: list[str], image_shape) -> dict:
    from .models import load_model_from_checkpoint, model_info

    models = {}
    for path, label in zip(paths, _model_labels(paths), strict=True):
        model = load_model_from_checkpoint(path, map_location="cpu")
        if not _fits(model.model_name, image_shape):
            expected = tuple(model_info(model.model_name).input_shape)
            raise ValueError(f"{path}: model {model.model_name} takes {'x'.join(map(str, expected))} images, "
                             f"the test images are {'x'.join(map(str, image_shape))}")
        models[label] = model
    return models


def _check_baseline(baseline: str | None, models: dict) -> None:
    from .robustness import BASELINES

    if baseline is not None and baseline not in BASELINES and baseline not in models:
        raise ValueError(f"--baseline must be {', '.join(map(repr, BASELINES))} or one of the evaluated models "
                         f"({', '.join(models)}), got {baseline!r}")


def _imagenet_loader(args: argparse.Namespace, folder, indices=None):
    """The test images of an ImageNet-style folder through the test pipeline (resize, centre crop), streamed."""
    from torch.utils.data import DataLoader, Subset

    from .data import image_folder, imagenet_transform

    data = image_folder(folder, imagenet_transform(False, args.image_size or 224))
    if indices is not None:
        data = Subset(data, [int(i) for i in indices])
    workers = args.workers if args.workers is not None else min(8, os.cpu_count() or 1)
    return DataLoader(data, batch_size=args.batch_size, shuffle=False, num_workers=workers), data


def _random_indices(count: int, n: int | None, seed: int):
    import torch

    if n is None or n >= count:
        return None
    if n < 1:
        raise ValueError(f"--subset must be a positive integer, got {n}")
    return torch.randperm(count, generator=torch.Generator().manual_seed(seed))[:n]


def _wanted_corruptions(names, suite) -> list[str] | None:
    """``--corruptions`` for released files: suite names expanded, registry names mapped to the files' names."""
    from .corruptions import CIFAR10C_BENCHMARK, list_suites

    if not names:
        return None
    suites = list_suites()
    wanted = []
    for name in names:
        if name in (suite.suite, "cifar10-c", "mnist-c", "imagenet-c"):
            wanted += list(suite.corruptions)
        elif name == "cifar10-c-benchmark":
            wanted += list(CIFAR10C_BENCHMARK)
        elif name in suites and name.startswith("imagenet-c"):
            wanted += [c.removeprefix("imagenetc_") for c in suites[name]]
        else:
            wanted.append(name.removeprefix("imagenetc_") if suite.suite == "imagenet-c" else name)
    return list(dict.fromkeys(wanted))


def _evaluate_released(args: argparse.Namespace, device):
    """``evaluate --released FOLDER``: the published CIFAR-10-C / MNIST-C files or ImageNet-C folders."""
    from .corruptions import open_released
    from .data import folder_split, load_dataset
    from .models import load_model_from_checkpoint, model_info
    from .robustness import evaluate_released

    first = load_model_from_checkpoint(args.checkpoint[0], map_location="cpu")
    if args.suite:
        suite_name = args.suite
    elif first.model_name.startswith("lenet"):
        suite_name = "mnist-c"
    else:
        suite_name = "imagenet-c" if model_info(first.model_name).dataset == "imagenet" else "cifar10-c"
    suite = open_released(args.released, suite_name)
    if suite.suite == "imagenet-c":
        if args.workers is not None:
            suite.num_workers = args.workers
        models = _load_models(args.checkpoint, (3, 224, 224))
        _check_baseline(args.baseline, models)
        chosen = _wanted_corruptions(args.corruptions, suite)
        count = len(suite.dataset(chosen[0] if chosen else suite.corruptions[0], suite.severities[0]))
        indices = _random_indices(count, args.subset, args.seed)
        clean = None
        if args.dataset:
            if not args.dataset.startswith("folder:"):
                raise ValueError("with --released and --suite imagenet-c, --dataset must be folder:PATH (the ImageNet "
                                 "validation images, class sub-folders)")
            clean, data = _imagenet_loader(args, folder_split(args.dataset, "test"), indices)
            classes = tuple(getattr(data, "dataset", data).classes)
            if classes != suite.classes or len(getattr(data, "dataset", data)) != count:
                raise ValueError(f"--dataset {args.dataset} must hold the same classes and images as the released "
                                 f"folders ({len(suite.classes)} classes, {count} images per severity)")
        results = evaluate_released(models, suite, chosen, args.severities, clean, args.batch_size, device,
                                    progress=not args.no_progress, indices=indices)
        return results, "ImageNet-C (released folders)", count if indices is None else len(indices)
    shape = (1, 28, 28) if suite.suite == "mnist-c" else (3, 32, 32)
    models = _load_models(args.checkpoint, shape)
    _check_baseline(args.baseline, models)
    chosen = _wanted_corruptions(args.corruptions, suite)
    clean = load_dataset(args.dataset, "test", args.data_root, download=args.download) if args.dataset else None
    images = suite.images(chosen[0] if chosen else suite.corruptions[0], 1)
    count = images.shape[0]
    indices = _random_indices(count, args.subset, args.seed)
    if clean is not None and len(clean) != images.shape[0]:
        raise ValueError(f"--dataset {args.dataset} has {len(clean)} test images, the released files "
                         f"{images.shape[0]} per severity: pass the matching clean test set")
    results = evaluate_released(models, suite, chosen, args.severities, clean, args.batch_size, device,
                                progress=not args.no_progress, indices=indices)
    return results, f"{suite.suite} (released files)", count if indices is None else len(indices)


def _evaluate_streamed(args: argparse.Namespace, device, corruptions):
    """``evaluate --dataset folder:PATH`` for torchvision models: the ImageNet test pipeline, streamed, with the
    corruptions made on the fly from each batch."""
    from .data import folder_split, image_folder
    from .robustness import evaluate_loader

    folder = folder_split(args.dataset, args.split)
    count = len(image_folder(folder))
    indices = _random_indices(count, args.subset, args.seed)
    loader, _ = _imagenet_loader(args, folder, indices)
    size = args.image_size or 224
    models = _load_models(args.checkpoint, (3, size, size))
    _check_baseline(args.baseline, models)
    results = evaluate_loader(models, loader, corruptions, args.severities, device, args.seed,
                              progress=not args.no_progress)
    return results, f"{folder.name} (folder, {size}x{size} centre crops)", count if indices is None else len(indices)


def _summary_path(out: str) -> Path:
    """Where ``evaluate --out results.csv`` writes its summary: ``results_summary.csv`` beside it."""
    return Path(out).with_name(Path(out).stem + "_summary.csv")


def _cmd_evaluate(args: argparse.Namespace) -> None:
    import pandas as pd

    from .corruptions import resolve_corruptions
    from .data import load_dataset
    from .io import atomic_write_text, check_output_file
    from .models import load_model_from_checkpoint, model_info
    from .robustness import BASELINES, default_baseline, evaluate, summary_table
    from .train import resolve_device

    if args.out:  # before any work: a long run must not lose its table at the end
        check_output_file(args.out, "--out")
        check_output_file(_summary_path(args.out), "--out (its _summary.csv)")
    device = resolve_device(args.device)
    if args.released:
        results, name, count = _evaluate_released(args, device)
    else:
        if not args.dataset:
            raise ValueError("--dataset is required (or --released FOLDER for the published corruption files)")
        corruptions = resolve_corruptions(args.corruptions or [])
        streamed = args.dataset.startswith("folder:") and model_info(
            load_model_from_checkpoint(args.checkpoint[0], map_location="cpu").model_name).dataset == "imagenet"
        if streamed:  # a torchvision model on an image folder: the ImageNet test pipeline, streamed
            results, name, count = _evaluate_streamed(args, device, corruptions)
        else:
            data = _subset(load_dataset(args.dataset, args.split, args.data_root, download=args.download),
                           args.subset, args.seed)
            models = _load_models(args.checkpoint, data.image_shape)
            _check_baseline(args.baseline, models)
            results = evaluate(models, data.images, data.labels, corruptions, args.severities, args.batch_size,
                               device, args.seed, progress=not args.no_progress)
            name, count = data.name, len(data)
    corruptions = list(dict.fromkeys(c for c in results["corruption"] if c != "clean"))
    results.insert(1, "dataset", name)
    table = results.pivot_table(index=["corruption", "severity"], columns="model", values="accuracy", sort=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"accuracy (%) on {name}, {count} images:")
        print((100 * table).round(2).to_string())
    baseline = args.baseline
    if baseline is None:  # a built-in AlexNet baseline when it covers the corruptions (ImageNet: the 15)
        covered = [c for c in corruptions if c in BASELINES["alexnet-imagenet"][0]]
        baseline = default_baseline(corruptions) or (default_baseline(covered) if covered else None)
    scored = results
    if baseline in BASELINES:
        known = BASELINES[baseline][0]
        left_out = [c for c in corruptions if c not in known]
        if left_out and baseline == "alexnet-imagenet":
            print(f"(mCE over the {len(corruptions) - len(left_out)} benchmark corruptions: AlexNet's errors on "
                  f"{', '.join(left_out)} are not published; --baseline MODEL normalises them by another model)")
            scored = results[~results["corruption"].isin(left_out)]
    has_clean = (results["corruption"] == "clean").any()
    summary = summary_table(scored, baseline) if corruptions and baseline and has_clean else None
    if corruptions and baseline and not has_clean:
        print("no mCE summary: it needs the clean error (pass --dataset with the clean test set)")
    if summary is not None:
        shown = summary.assign(clean_error=100 * summary["clean_error"],
                               corruption_error=100 * summary["corruption_error"])
        n = int(summary["n_corruptions"].iloc[0])
        print(f"\nsummary (errors in %; mCE and relative mCE normalised by {summary['baseline'].iloc[0]}, "
              f"over {n} corruption{'s' if n != 1 else ''}):")
        print(shown.drop(columns=["baseline"]).round(2).to_string(index=False))
        if baseline in BASELINES:
            which = "the paper's CIFAR AlexNet" if baseline == "alexnet-cifar" else "AlexNet on ImageNet-C"
            print(f"(mCE 100 = the errors of {which} on the same corruptions; above 100 is worse than that AlexNet, "
                  "below is better; relative mCE does the same with each error's increase over the clean error)")
    if args.out:
        atomic_write_text(args.out, results.to_csv(index=False))
        print(f"wrote {args.out}")
        if summary is not None:
            summary_path = _summary_path(args.out)
            atomic_write_text(summary_path, summary.to_csv(index=False))
            print(f"wrote {summary_path}")


def _cmd_export_weights(args: argparse.Namespace) -> None:
    import json

    from .io import check_output_file
    from .pretrained import export_weights, write_cards

    check_output_file(args.out, "--out")
    example = "e.g. '{\"command\": \"...\"}'"
    try:
        card = json.loads(args.card) if args.card else {}
    except json.JSONDecodeError as error:
        raise ValueError(f"--card must be a JSON object, {example}; it does not parse: {error}") from None
    if not isinstance(card, dict):
        raise ValueError(f"--card must be a JSON object, {example}")
    path = export_weights(args.checkpoint, args.out, card, half=args.half)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    if args.write_cards:
        print(f"wrote {write_cards(path.parent)}")


def _cmd_reproduce(args: argparse.Namespace) -> None:
    from .io import check_output_folder
    from .reproduce import reproduce_mnist, study_plan

    for flag, folder in (("--out", args.out), ("--runs", args.runs), ("--export-weights", args.export_weights)):
        if folder is not None:
            check_output_folder(folder, flag)
    import shlex

    command = "pushpull-viz " + shlex.join(args.argv)
    if args.study == "cifar10-jpeg75":
        from .reproduce import reproduce_cifar

        mnist_only = [flag for flag, value in (("--quick", args.quick), ("--seeds", args.seeds),
                                               ("--models", args.models), ("--no-sweep", args.no_sweep),
                                               ("--sweep-seeds", args.sweep_seeds),
                                               ("--export-weights", args.export_weights)) if value]
        if mnist_only:
            raise ValueError(f"{', '.join(mnist_only)} belong to the mnist study; the cifar10-jpeg75 study takes "
                             "--recipe, --epochs, --seed, --compare, --train-subset and --test-subset")
        others = {}
        for item in args.compare or []:
            label, sep, path = item.partition("=")
            if not sep or not label or not path:
                raise ValueError(f"--compare takes LABEL=CHECKPOINT, got {item!r}")
            others[label] = path
        for flag, value in (("--epochs", args.epochs), ("--train-subset", args.train_subset),
                            ("--test-subset", args.test_subset)):
            if value is not None and value < 1:
                raise ValueError(f"{flag} must be a positive integer, got {value}")
        out = args.out if args.out != "results/mnist" else "results/cifar10-jpeg75"
        check_output_folder(out, "--out")
        reproduce_cifar(out, args.data_root, args.recipe or "resnet-gpu", args.epochs, args.seed, args.runs,
                        args.device, others, train_images=args.train_subset, test_images=args.test_subset,
                        progress=not args.no_progress, command=command)
        return
    if args.recipe or args.compare or args.train_subset or args.test_subset:
        raise ValueError("--recipe, --compare, --train-subset and --test-subset belong to the cifar10-jpeg75 study")
    plan = study_plan(quick=args.quick, epochs=args.epochs, seeds=args.seeds, models=args.models,
                      sweep=not args.no_sweep, sweep_seeds=args.sweep_seeds)
    reproduce_mnist(args.out, args.data_root, plan, runs=args.runs, device=args.device, progress=not args.no_progress,
                    command=command, export_weights=args.export_weights)


def _cmd_grade(args: argparse.Namespace) -> None:
    from .exercises import grade
    from .io import atomic_write_text, check_output_file

    if args.out:
        check_output_file(args.out, "--out")
    table = grade(args.notebooks, timeout=args.timeout)  # refuses a path that is no notebook before running any
    summary = table.assign(passed=table["status"].isin(["correct", "submitted for marking"])).groupby(
        "notebook", sort=False).agg(passed=("passed", "sum"), exercises=("exercise", "count"),
                                    error=("error", "first"))
    print(summary.to_string())
    if args.out:
        atomic_write_text(args.out, table.to_csv(index=False))
        print(f"wrote {args.out} ({len(table)} rows: notebook, exercise, status, message, error)")


def _cmd_explorer(args: argparse.Namespace) -> None:
    from .viz.explorer_html import write_explorer_html

    path = write_explorer_html(args.out, seed=args.seed)  # checks --out before computing anything
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB): open it in any browser, no Python or network needed")


def _cmd_demo(args: argparse.Namespace) -> None:
    from .demo import run_demo
    from .io import check_output_folder

    check_output_folder(args.out, "--out")
    for flag, value in (("--train-subset", args.train_subset), ("--test-subset", args.test_subset),
                        ("--epochs", args.epochs)):
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be a positive integer, got {value}")

    run_demo(args.out, args.data_root, download=True if args.download else None, model=args.model,
             epochs=args.epochs, seed=args.seed, device=args.device, test_images=args.test_subset,
             train_images=args.train_subset, progress=not args.no_progress)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", default=None, help="data root (default: $PUSHPULL_DATA)")
    parser.add_argument("--download", action="store_true", help="let torchvision download missing datasets")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the best available)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pushpull-viz",
                                     description="Push-pull inhibition layer for CNNs: models, evaluation, visuals.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    models = sub.add_parser("models", help="list the models build_model() knows")
    models.set_defaults(func=_cmd_models)

    official = sub.add_parser("official", help="evaluate the authors' checkpoints on the offline JPEG-75 CIFAR-10 copy")
    official.add_argument("--checkpoints", default=str(Path("..") / "shared" / "checkpoints" / "official"),
                          help="folder with <name>/model_best.pth.tar files (default: %(default)s)")
    official.add_argument("--data-root", default=None,
                          help="data root holding cifar10-jpeg75/ (default: $PUSHPULL_DATA)")
    official.add_argument("--per-class", type=int, default=None, help="test images per class (default: all 1,000)")
    official.add_argument("--batch-size", type=int, default=500)
    official.add_argument("--out", default="outputs/official", help="output folder (default: %(default)s)")
    official.set_defaults(func=_cmd_official)

    from .data import DATASETS
    from .layers import DEFAULT_ALPHA, DEFAULT_SCALE
    from .train import RECIPES

    datasets = f"{', '.join(DATASETS)} or folder:PATH"
    train = sub.add_parser("train", help="train a model and write checkpoints and metrics",
                           description="Train a model of the zoo; writes last.pt, best.pt, metrics.csv/jsonl, "
                                       "config.json. Several processes: torchrun --nproc_per_node N -m "
                                       "pushpull_viz.cli train ... (see docs/scaling.md).")
    train.add_argument("--model", required=True, help="model name (see `pushpull-viz models`)")
    train.add_argument("--pushpull", action="store_true", help="push-pull first layer")
    train.add_argument("--alpha", type=float, default=None,
                       help=f"push-pull inhibition strength (default: the layer's, {DEFAULT_ALPHA:g})")
    train.add_argument("--scale", type=float, default=None,
                       help=f"push-pull pull-kernel scale h (default: the layer's, {DEFAULT_SCALE:g})")
    train.add_argument("--trainable-alpha", action="store_true", help="learn alpha per channel")
    train.add_argument("--dataset", required=True, help=datasets)
    train.add_argument("--recipe", default=None, choices=list(RECIPES),
                       help="training recipe (default: the paper's recipe for the model family)")
    train.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    train.add_argument("--batch-size", type=int, default=None, help="override the recipe's batch size")
    train.add_argument("--lr", type=float, default=None, help="override the recipe's learning rate")
    train.add_argument("--out", required=True, help="run folder")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from last.pt")
    train.add_argument("--overwrite", action="store_true", help="start again even if --out holds a run")
    train.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                       help="mixed precision (default: on for CUDA)")
    train.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                       help="channels_last memory format (default: on for CUDA)")
    train.add_argument("--compile", action="store_true", help="train through torch.compile")
    train.add_argument("--sync-bn", action="store_true",
                       help="under torchrun on CUDA: batch-norm statistics over the global batch (SyncBatchNorm)")
    train.add_argument("--pushpull-layers", default=None, metavar="NAMES",
                       help="tv-* models: which convolutions become push-pull: first (default), all, or "
                            "comma-separated names (e.g. conv1,layer1.0.conv1)")
    train.add_argument("--init-from", default=None, metavar="FILE",
                       help="tv-* models: fine-tune from a torchvision state dict (e.g. resnet50-0676ba61.pth); "
                            "push-pull layers take its weights as push kernels")
    train.add_argument("--image-size", type=int, default=None,
                       help="tv-* models on folder:PATH: crop size of the ImageNet pipeline (default: 224)")
    train.add_argument("--workers", type=int, default=None,
                       help="tv-* models on folder:PATH: DataLoader workers per process (default: min(8, cores))")
    train.add_argument("--train-subset", type=int, default=None, help="train on a random subset of N images")
    train.add_argument("--test-subset", type=int, default=None, help="test on a random subset of N images")
    _add_common(train)
    train.set_defaults(func=_cmd_train)

    evaluate = sub.add_parser("evaluate", help="accuracy of checkpoints on clean (and corrupted) test images",
                              description="Evaluate one or more checkpoints (this project's or the authors').")
    evaluate.add_argument("--checkpoint", required=True, nargs="+", help="checkpoint file(s)")
    evaluate.add_argument("--dataset", default=None, help=datasets + " (with --released: the clean test set)")
    evaluate.add_argument("--released", default=None, metavar="FOLDER",
                          help="evaluate on the published CIFAR-10-C or MNIST-C .npy files in FOLDER "
                               "(see pushpull_viz.corruptions.download_released), or the extracted ImageNet-C "
                               "folders, instead of generating them")
    evaluate.add_argument("--suite", default=None, choices=["cifar10-c", "mnist-c", "imagenet-c"],
                          help="with --released: which release (default: from the first model)")
    evaluate.add_argument("--image-size", type=int, default=None,
                          help="tv-* models on folder:PATH: centre-crop size of the test pipeline (default: 224)")
    evaluate.add_argument("--workers", type=int, default=None,
                          help="tv-* models on image folders: DataLoader workers (default: min(8, cores))")
    evaluate.add_argument("--split", default="test", choices=["train", "test"])
    evaluate.add_argument("--corruptions", nargs="*", default=None,
                          help="corruption names and/or suites: mnist, cifar10-c (all 19), cifar10-c-benchmark "
                               "(the 15), imagenet-c (all 19 at 224x224), imagenet-c-benchmark (default: clean only)")
    evaluate.add_argument("--severities", type=int, nargs="*", default=None, help="severities (default: all)")
    evaluate.add_argument("--subset", type=int, default=None, help="evaluate on a random subset of N images")
    evaluate.add_argument("--batch-size", type=int, default=500)
    evaluate.add_argument("--out", default=None, help="write the tidy results table to this CSV file "
                          "(and the summary beside it as <name>_summary.csv)")
    evaluate.add_argument("--baseline", default=None,
                          help="normalise mCE by 'alexnet-cifar' (the paper's; default for CIFAR-10-C corruptions), "
                               "'alexnet-imagenet' (default for ImageNet-C) or by one of the evaluated models (its "
                               "label as printed)")
    _add_common(evaluate)
    evaluate.set_defaults(func=_cmd_evaluate)

    export = sub.add_parser("export-weights", help="write a small weights-only file (with a model card) from a run",
                            description="Turn a run's best.pt into a weights-only checkpoint with a model card, "
                                        "as shipped in pushpull_viz/weights.")
    export.add_argument("--checkpoint", required=True, help="a run checkpoint (best.pt or last.pt)")
    export.add_argument("--out", required=True, help="the .pt file to write")
    export.add_argument("--card", default=None, help="extra model-card entries as a JSON object")
    export.add_argument("--half", action="store_true", help="store float16 weights (half the size)")
    export.add_argument("--write-cards", action="store_true", help="rewrite README.md beside --out from all cards")
    export.set_defaults(func=_cmd_export_weights)

    reproduce = sub.add_parser("reproduce", help="rerun the paper's MNIST study and write a results page",
                               description="Train LeNets A-D plain and push-pull over several seeds, test them on "
                                           "the paper's noise suites, sweep alpha and h, and write tables, figures "
                                           "and README.md into --out. Reruns reuse finished and resume unfinished "
                                           "runs.")
    reproduce.add_argument("study", choices=["mnist", "cifar10-jpeg75"],
                           help="mnist: the paper's MNIST study; cifar10-jpeg75: ResNet-20 and ResNet-20-PP trained "
                                "as a pair on the JPEG-75 copy of CIFAR-10 and tested on CIFAR-10-C made from it")
    reproduce.add_argument("--out", default="results/mnist",
                           help="results folder (default: results/mnist, or results/cifar10-jpeg75)")
    reproduce.add_argument("--runs", default=None,
                           help="training-run folder (default: runs/reproduce-mnist-<epochs>ep)")
    reproduce.add_argument("--quick", action="store_true", help="a small smoke run (CI), not a result")
    reproduce.add_argument("--epochs", type=int, default=None,
                           help="mnist: shorten the paper's 90 epochs (milestones scale); cifar10-jpeg75: the "
                                "recipe's epochs")
    reproduce.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (default: 0 1 2)")
    reproduce.add_argument("--models", nargs="+", default=None, help="subset of lenet-a lenet-b lenet-c lenet-d")
    reproduce.add_argument("--no-sweep", action="store_true", help="skip the alpha x h sweep")
    reproduce.add_argument("--sweep-seeds", type=int, nargs="+", default=None,
                           help="seeds of the alpha x h sweep, averaged on the page (default: the first of --seeds)")
    reproduce.add_argument("--recipe", default=None, help="cifar10-jpeg75: training recipe (default: resnet-gpu)")
    reproduce.add_argument("--compare", nargs="+", default=None, metavar="LABEL=CHECKPOINT",
                           help="cifar10-jpeg75: also test these checkpoints on the same corrupted images")
    reproduce.add_argument("--train-subset", type=int, default=None, help="cifar10-jpeg75: train on N random images")
    reproduce.add_argument("--test-subset", type=int, default=None, help="cifar10-jpeg75: test on N random images")
    reproduce.add_argument("--export-weights", default=None, metavar="FOLDER",
                           help="also export LeNet-A and -PP (best seed, final weights) with model cards into FOLDER, "
                                "e.g. pushpull_viz/weights")
    _add_common(reproduce)
    reproduce.set_defaults(func=_cmd_reproduce)

    grade = sub.add_parser("grade", help="run exercise notebooks and tabulate their checks (CSV)",
                           description="Run each notebook (a student's copy of notebooks/exercises/*.ipynb) top to "
                                       "bottom and write one row per notebook and exercise: correct, incorrect, "
                                       "not done yet, submitted for marking, or not attempted.")
    grade.add_argument("notebooks", nargs="+", help=".ipynb files or folders of them")
    grade.add_argument("--out", default=None, help="write the table to this CSV file")
    grade.add_argument("--timeout", type=int, default=900, help="seconds per cell (default: %(default)s)")
    grade.set_defaults(func=_cmd_grade)

    explorer = sub.add_parser("explorer", help="write a self-contained HTML page with alpha and noise sliders",
                              description="Precompute first-layer responses (9 alphas x 6 noise levels, a Gabor "
                                          "kernel and a learned LeNet-A-PP kernel) and write them with two sliders "
                                          "into one HTML file that needs no Python, server or network.")
    explorer.add_argument("--out", default="outputs/explorer.html", help="the HTML file (default: %(default)s)")
    explorer.add_argument("--seed", type=int, default=0, help="the noise draw (default: %(default)s)")
    explorer.set_defaults(func=_cmd_explorer)

    demo = sub.add_parser("demo", help="the main job: LeNet vs push-pull LeNet on noisy MNIST, with a report",
                          description="Train a LeNet and a push-pull LeNet on MNIST, test them on noisy digits and "
                                      "write a report (PNG, Markdown, HTML, CSV) into --out.")
    demo.add_argument("--out", default="outputs/demo", help="output folder (default: %(default)s)")
    demo.add_argument("--model", default="lenet-a", choices=["lenet-a", "lenet-b", "lenet-c", "lenet-d"])
    demo.add_argument("--epochs", type=int, default=None, help="override the lenet-quick recipe's 8 epochs")
    demo.add_argument("--train-subset", type=int, default=None, help="train on a random subset of N images")
    demo.add_argument("--test-subset", type=int, default=None, help="test on a random subset of N images")
    _add_common(demo)
    demo.set_defaults(func=_cmd_demo)
    return parser


def _busy_machine_hint(command: str) -> None:
    """Beside another CPU job, OpenMP threads that spin-wait for cores slow training down many times over
    (docs/benchmarks.md: a training epoch 23x, the demo 8.7x); say how to avoid it when the machine is busy."""
    if command not in ("train", "demo", "reproduce") or {"OMP_WAIT_POLICY", "OMP_NUM_THREADS"} & set(os.environ):
        return  # not a long CPU job, or the threads are already the user's choice
    try:
        load = os.getloadavg()[0]
    except OSError:
        return
    cores = os.cpu_count() or 1
    if load >= 0.75 * cores:
        print(f"note: this machine is busy (load average {load:.1f} on {cores} cores). Beside another CPU job, "
              f"export OMP_WAIT_POLICY=PASSIVE (or OMP_NUM_THREADS={max(1, cores // 2)}) before running, or this run "
              "may be many times slower (docs/benchmarks.md)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    _busy_machine_hint(args.command)
    try:
        args.func(args)
    except KeyboardInterrupt:
        hint = " (continue with the same command plus --resume)" if args.command == "train" else ""
        print(f"pushpull-viz: interrupted{hint}", file=sys.stderr)
        return 130
    except Exception as error:  # one readable line, not a traceback
        if args.debug:
            raise
        size = int(os.environ.get("WORLD_SIZE", "1") or 1)  # under torchrun: say which process failed
        where = f" (rank {os.environ.get('RANK', '?')} of {size})" if size > 1 else ""
        print(f"pushpull-viz {args.command}{where}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
