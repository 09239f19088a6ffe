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


def _evaluate(model, images, labels, batch_size: int) -> float:
    import torch
    from tqdm import tqdm

    correct = 0
    with torch.inference_mode():
        for start in tqdm(range(0, len(images), batch_size), desc="batches", leave=False, disable=None):
            batch = images[start:start + batch_size].float() / 255
            correct += (model(batch).argmax(1) == labels[start:start + batch_size]).sum().item()
    return correct / len(images)


def _cmd_official(args: argparse.Namespace) -> None:
    """Evaluate the authors' checkpoints on the offline JPEG-75 CIFAR-10 copy."""
    import torch

    from .data import CIFAR10_JPEG75_LABEL, load_cifar10_jpeg75
    from .models import load_model_from_checkpoint

    folder = Path(args.checkpoints)
    files = sorted(folder.glob("*/model_best.pth.tar"))
    if not files:
        raise FileNotFoundError(f"no */model_best.pth.tar under {folder} (pass --checkpoints)")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    images, labels = load_cifar10_jpeg75("test", args.data_root, per_class=args.per_class)
    rows = []
    for path in files:
        model = load_model_from_checkpoint(path).eval()
        start = time.perf_counter()
        accuracy = _evaluate(model, images, labels, args.batch_size)
        rows.append({
            "checkpoint": path.parent.name, "model": model.model_name,
            "first_layer": type(model.get_submodule("features.conv0" if hasattr(model, "features") else "conv1")).__name__,
            "dataset": CIFAR10_JPEG75_LABEL, "n_images": len(images),
            "accuracy_percent": round(100 * accuracy, 2),
            "best_prec1_reported": model.checkpoint_meta.get("best_prec1"),
            "seconds": round(time.perf_counter() - start, 1),
        })
        print(f"{rows[-1]['checkpoint']:<20} {rows[-1]['accuracy_percent']:6.2f}% on {len(images)} test images of the {CIFAR10_JPEG75_LABEL}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pushpull-viz", description="Push-pull inhibition layer for CNNs: models, evaluation, visuals.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    models = sub.add_parser("models", help="list the models build_model() knows")
    models.set_defaults(func=_cmd_models)

    official = sub.add_parser("official", help="evaluate the authors' checkpoints on the offline JPEG-75 CIFAR-10 copy")
    official.add_argument("--checkpoints", default=str(Path("..") / "shared" / "checkpoints" / "official"),
                          help="folder with <name>/model_best.pth.tar files (default: %(default)s)")
    official.add_argument("--data-root", default=None, help="data root holding cifar10-jpeg75/ (default: $PUSHPULL_DATA)")
    official.add_argument("--per-class", type=int, default=None, help="test images per class (default: all 1,000)")
    official.add_argument("--batch-size", type=int, default=500)
    official.add_argument("--out", default="outputs/official", help="output folder (default: %(default)s)")
    official.set_defaults(func=_cmd_official)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        print("pushpull-viz: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one readable line, not a traceback
        if args.debug:
            raise
        print(f"pushpull-viz {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
