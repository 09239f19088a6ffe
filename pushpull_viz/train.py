"""Training: the paper's recipes, :func:`fit` with progress, logs, atomic checkpoints and resume.

A run folder (``out``) holds:

* ``last.pt``: everything needed to continue (model, optimiser, scheduler, AMP scaler,
  epoch, RNG states, history, the run's configuration), rewritten atomically after each epoch;
* ``best.pt``: the same at the epoch with the best held-out accuracy;
* ``metrics.csv`` / ``metrics.jsonl``: one row per epoch (``pandas.read_csv`` /
  ``pandas.read_json(lines=True)`` read them; seaborn plots them directly);
* ``config.json``: the configuration, for people.

``fit(..., resume=True)`` continues from ``last.pt``. Shuffling and augmentation depend only
on ``(seed, epoch)`` and the global RNG state is restored, so on CPU a killed and resumed run
ends with bit-identical weights to an uninterrupted one.

Example:
    >>> from pushpull_viz.data import ImageTensors
    >>> images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
    >>> data = ImageTensors(images, torch.arange(64) % 10, tuple("0123456789"))
    >>> model = build_model("lenet-d")
    >>> result = fit(model, (data, data), "lenet-quick", epochs=1, progress=False)
    >>> list(result.history.columns[:3])
    ['epoch', 'lr', 'train_loss']
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import distributed
from .data import ImageTensors, TensorLoader
from .io import FolderLock, atomic_save, atomic_write_text
from .models import build_model, normalize_build_config
from .models.checkpoints import CheckpointMismatchError, load_checkpoint, load_state_dict_strict

__all__ = [
    "RECIPES",
    "FitResult",
    "Recipe",
    "evaluate_accuracy",
    "fit",
    "get_recipe",
    "resolve_device",
    "seed_everything",
    "train_or_resume",
]

CHECKPOINT_FORMAT = "pushpull-viz-run/1"


@dataclass(frozen=True)
class Recipe:
    """How to train: optimiser (SGD with momentum), learning-rate schedule, batch size, augmentation.

    ``schedule``: ``"step"`` divides the rate by ``1/gamma`` at each epoch in ``milestones``
    (the paper's recipes); ``"onecycle"`` is PyTorch's one-cycle policy (warm-up then
    cosine decay, stepped per batch; the short presets); ``"cosine"`` decays per batch to 0.
    """

    name: str
    epochs: int
    batch_size: int
    lr: float
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "step"
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1
    crop_padding: int = 0
    flip: bool = False
    label_smoothing: float = 0.0
    eval_batch_size: int = 1000
    description: str = ""

    def __post_init__(self) -> None:
        checks = {
            "epochs": isinstance(self.epochs, int) and self.epochs >= 1,
            "batch_size": isinstance(self.batch_size, int) and self.batch_size >= 1,
            "lr": self.lr > 0 and math.isfinite(self.lr),
            "momentum": 0 <= self.momentum < 1,
            "weight_decay": self.weight_decay >= 0,
            "gamma": 0 < self.gamma <= 1,
            "crop_padding": isinstance(self.crop_padding, int) and self.crop_padding >= 0,
            "label_smoothing": 0 <= self.label_smoothing < 1,
        }
        expected = {"epochs": "a positive integer", "batch_size": "a positive integer", "lr": "a positive number",
                    "momentum": "in [0, 1)", "weight_decay": ">= 0", "gamma": "in (0, 1]",
                    "crop_padding": "a non-negative integer", "label_smoothing": "in [0, 1)"}
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"recipe {self.name!r}: {key} must be {expected[key]}, got {getattr(self, key)!r}")
        if self.schedule not in ("step", "onecycle", "cosine"):
            raise ValueError(f"recipe {self.name!r}: schedule must be 'step', 'onecycle' or 'cosine', got "
                             f"{self.schedule!r}")
        increasing = list(self.milestones) == sorted(set(self.milestones))
        if any(not 0 < m < self.epochs for m in self.milestones) or not increasing:
            raise ValueError(f"recipe {self.name!r}: milestones must be increasing epochs in 1..{self.epochs - 1}, "
                             f"got {self.milestones!r}")
        if self.nesterov and self.momentum == 0:
            raise ValueError(f"recipe {self.name!r}: nesterov needs momentum > 0")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (
        Recipe("lenet-paper", epochs=90, batch_size=128, lr=0.1, weight_decay=5e-4, milestones=(30, 60),
               description="Paper, LeNet on MNIST: Nesterov SGD 0.9, wd 5e-4, 90 epochs, lr 0.1 /10 at 30 and 60 "
                           "(batch size not stated in the paper: 128)"),
        Recipe("resnet-paper", epochs=200, batch_size=128, lr=0.1, weight_decay=1e-4, milestones=(80, 120, 160),
               crop_padding=4, flip=True,
               description="Paper, CIFAR ResNets: Nesterov SGD 0.9, wd 1e-4, batch 128, 200 epochs, "
                           "lr 0.1 /10 at 80/120/160, reflect-pad-4 crop + flip"),
        Recipe("densenet-paper", epochs=350, batch_size=64, lr=0.1, weight_decay=1e-4, milestones=(150, 225, 300),
               crop_padding=4, flip=True,
               description="Paper, CIFAR DenseNets: batch 64, 350 epochs, lr 0.1 /10 at 150/225/300, reflect-pad-4 "
                           "crop + flip (wd not stated in the paper: DenseNet's 1e-4)"),
        Recipe("lenet-quick", epochs=8, batch_size=128, lr=0.1, weight_decay=5e-4, schedule="onecycle",
               description="Short LeNet/MNIST run: 8 epochs, one-cycle lr (peak 0.1), Nesterov SGD"),
        Recipe("resnet-quick", epochs=30, batch_size=128, lr=0.1, weight_decay=5e-4, schedule="onecycle",
               crop_padding=4, flip=True,
               description="Short CIFAR run for ResNets/AlexNet: 30 epochs, one-cycle lr (peak 0.1), crop + flip"),
        Recipe("resnet-gpu", epochs=30, batch_size=512, lr=0.4, weight_decay=5e-4, schedule="onecycle",
               crop_padding=4, flip=True, eval_batch_size=2000,
               description="One-GPU CIFAR run for ResNets: 30 epochs, batch 512, one-cycle lr (peak 0.4, the "
                           "batch-128 peak 0.1 scaled with the batch), crop + flip; with AMP and channels_last, as "
                           "fit uses them on CUDA"),
        Recipe("imagenet-torchvision", epochs=90, batch_size=256, lr=0.1, nesterov=False, weight_decay=1e-4,
               milestones=(30, 60), eval_batch_size=256,
               description="ImageNet ResNets, torchvision's reference recipe (the PushPull-Net paper's own settings "
                           "are not in this project's sources): SGD momentum 0.9 (not Nesterov), wd 1e-4, global "
                           "batch 256 (32 per GPU on 8 GPUs), 90 epochs, lr 0.1 /10 at 30 and 60; random resized "
                           "crop 224 + flip, resize 256 + centre crop 224 for test (folder_dataloader's 'imagenet' "
                           "pipeline)"),
        Recipe("densenet-quick", epochs=30, batch_size=64, lr=0.1, weight_decay=1e-4, schedule="onecycle",
               crop_padding=4, flip=True,
               description="Short CIFAR run for DenseNets: 30 epochs, batch 64, one-cycle lr (peak 0.1), crop + flip"),
    )
}


def get_recipe(recipe: str | Recipe, **overrides: Any) -> Recipe:
    """A named preset (see :data:`RECIPES`) or a :class:`Recipe`, with fields overridden.

    Overriding ``epochs`` of a step schedule without new ``milestones`` scales the milestones
    in proportion (``resnet-paper`` with ``epochs=20`` drops the rate at 8, 12 and 16).

    Example:
        >>> get_recipe("resnet-paper", epochs=20).milestones
        (8, 12, 16)
    """
    if isinstance(recipe, str):
        if recipe not in RECIPES:
            raise ValueError(f"unknown recipe {recipe!r}; valid names: {', '.join(RECIPES)}")
        recipe = RECIPES[recipe]
    elif not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a name or a Recipe, got {type(recipe).__name__}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Recipe)}
    if unknown:
        raise ValueError(f"unknown recipe fields {sorted(unknown)}; valid: "
                         f"{[f.name for f in dataclasses.fields(Recipe)]}")
    if "epochs" in overrides and "milestones" not in overrides and recipe.milestones:
        ratio = overrides["epochs"] / recipe.epochs
        scaled = sorted({max(1, round(m * ratio)) for m in recipe.milestones})
        overrides["milestones"] = tuple(m for m in scaled if m < overrides["epochs"])
    if "milestones" in overrides:
        overrides["milestones"] = tuple(overrides["milestones"])
    changed = {k: v for k, v in overrides.items() if k != "description" and getattr(recipe, k) != v}
    if changed and "description" not in overrides:  # the description must not contradict the fields
        overrides["description"] = (f"{recipe.description} [changed: "
                                    f"{', '.join(f'{k}={v}' for k, v in changed.items())}]")
    return dataclasses.replace(recipe, **overrides) if overrides else recipe


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given (checked to exist), else CUDA, then MPS, then CPU."""
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} requested but CUDA is not available here (use 'cpu')")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {str(device)!r} requested but MPS is not available here (use 'cpu')")
    return device


@dataclass
class FitResult:
    """What :func:`fit` returns."""

    model: nn.Module
    history: Any  # pandas.DataFrame, one row per epoch
    best_accuracy: float | None
    best_epoch: int | None
    train_seconds: float  # time spent in training steps (evaluation excluded)
    out: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def final_accuracy(self) -> float | None:
        if len(self.history) == 0 or "test_accuracy" not in self.history:
            return None
        return float(self.history["test_accuracy"].iloc[-1])


def _as_loader(data: Any, recipe: Recipe, device: torch.device, seed: int, train: bool, channels_last: bool):
    if data is None:
        return None
    rank, world_size = distributed.world()
    if isinstance(data, ImageTensors):
        if train:
            return TensorLoader(data, recipe.batch_size, shuffle=True, crop_padding=recipe.crop_padding,
                                flip=recipe.flip, device=device, seed=seed, channels_last=channels_last,
                                rank=rank, world_size=world_size)
        return TensorLoader(data, max(recipe.eval_batch_size, world_size), device=device,
                            channels_last=channels_last, rank=rank, world_size=world_size)
    if isinstance(data, Iterable):
        if getattr(data, "world_size", 1) != world_size:
            raise ValueError(f"under {world_size} processes every process must load its own share of the data: "
                             "pass ImageTensors or a folder_dataloader made in this process group (which shards "
                             f"itself), not an iterable made for {getattr(data, 'world_size', 1)} process(es)")
        return data
    raise TypeError(f"data must be ImageTensors or an iterable of (images, labels) batches, got {type(data).__name__}")


def _split_data(data: Any) -> tuple[Any, Any]:
    if isinstance(data, Mapping):
        unknown = set(data) - {"train", "test"}
        if unknown or "train" not in data:
            raise ValueError(f"data as a mapping needs a 'train' entry (and optionally 'test'), "
                             f"got keys {sorted(data)}")
        return data["train"], data.get("test")
    if isinstance(data, tuple):
        if len(data) != 2:
            raise ValueError(f"data as a tuple must be (train, test), got {len(data)} items")
        return data
    return data, None


def evaluate_accuracy(
    model: nn.Module,
    data: ImageTensors | Iterable,
    batch_size: int = 1000,
    device: str | torch.device | None = None,
    amp: bool = False,
) -> tuple[float, float]:
    """``(accuracy, mean cross-entropy)`` of ``model`` on ``data``, in eval mode.

    ``data`` is an :class:`ImageTensors` or an iterable of ``(float images in [0, 1], labels)``.
    """
    device = resolve_device(device) if device is not None else next(model.parameters()).device
    loader = TensorLoader(data, batch_size, device=device) if isinstance(data, ImageTensors) else data
    was_training = model.training
    model.eval()
    correct, loss = torch.zeros((), device=device), torch.zeros((), device=device)
    n = torch.zeros((), device=device, dtype=torch.int64)
    with torch.inference_mode(), torch.autocast(device.type, enabled=amp and device.type == "cuda"):
        for images, labels in loader:
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            logits = model(images).float()
            loss += F.cross_entropy(logits, labels, reduction="sum")
            correct += (logits.argmax(1) == labels).sum()
            n += labels.shape[0]
    model.train(was_training)
    if getattr(loader, "world_size", 1) > 1:  # each process scored its share: add them up
        distributed.all_sum(correct, loss, n)
    if n.item() == 0:
        raise ValueError("evaluation data is empty")
    return correct.item() / n.item(), loss.item() / n.item()


def _make_scheduler(optimizer: torch.optim.Optimizer, recipe: Recipe, steps_per_epoch: int):
    """(scheduler, steps per batch?)"""
    if recipe.schedule == "step":
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, list(recipe.milestones), recipe.gamma), False
    total = recipe.epochs * steps_per_epoch
    if total < 4:  # too short for a schedule
        return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0), True
    if recipe.schedule == "onecycle":
        warmup = min(0.5, max(0.25, 2 / total))  # at least two warm-up steps
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=recipe.lr, total_steps=total, pct_start=warmup, cycle_momentum=False), True
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total), True


def _rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Mapping[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"])[: torch.cuda.device_count()])


def _describe_differences(saved: Mapping[str, Any], current: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(saved) | set(current)):
        if f"{prefix}{key}" == "recipe.description":  # words about the recipe, not the recipe
            continue
        a, b = saved.get(key), current.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += _describe_differences(a, b, f"{prefix}{key}.")
        elif (list(a) if isinstance(a, (list, tuple)) else a) != (list(b) if isinstance(b, (list, tuple)) else b):
            out.append(f"{prefix}{key}: checkpoint {a!r} vs now {b!r}")
    return out


def fit(
    model: nn.Module,
    data: Any,
    recipe: str | Recipe = "lenet-quick",
    *,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
    device: str | torch.device | None = None,
    seed: int = 0,
    amp: bool | None = None,
    channels_last: bool | None = None,
    compile: bool = False,
    sync_batchnorm: bool = False,
    progress: bool = True,
    dataset: str | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
    on_epoch_end: Callable[[dict[str, Any]], None] | None = None,
    **overrides: Any,
) -> FitResult:
    """Train ``model`` with a recipe; evaluate after every epoch; log and checkpoint.

    Args:
        model: any classifier taking float images in [0, 1] (models from
            :func:`~pushpull_viz.models.build_model` are rebuilt from checkpoints by name).
        data: ``(train, test)``, ``{"train": ..., "test": ...}`` or just ``train``; each an
            :class:`~pushpull_viz.data.ImageTensors` (fast path: batches made on the device,
            augmented as the recipe says) or an iterable of ``(images, labels)`` batches
            (e.g. :func:`~pushpull_viz.data.folder_dataloader`; its augmentation is its own).
        recipe: a name in :data:`RECIPES` or a :class:`Recipe`; keyword ``overrides``
            (``epochs``, ``batch_size``, ``lr``, any :class:`Recipe` field) change it.
        out: run folder for checkpoints and logs (nothing is written without it).
        resume: continue the run in ``out`` from ``out/last.pt``. The model, recipe and
            seed must match the checkpoint's (a mismatch is an error naming the difference).
        overwrite: start afresh even if ``out`` holds a run (otherwise that is an error).
        device: ``"cpu"``, ``"cuda"``, ``"mps"``; default: the best available.
        seed: seeds shuffling, augmentation and dropout (and the model's initialisation if
            you call :func:`seed_everything` before building it; the CLI does).
        amp: mixed precision (float16 autocast + gradient scaling); default on for CUDA.
        channels_last: NHWC memory format for model and batches; default on for CUDA.
        compile: train through ``torch.compile(model)``.
        sync_batchnorm: under several processes on CUDA, batch-norm statistics over the global batch
            (``torch.nn.SyncBatchNorm``) instead of each process's share.
        progress: show a tqdm bar (loss, accuracy, images/s).
        dataset: a label for the data, stored in the configuration (e.g. ``"mnist"``).
        on_step: called after every training step with ``{"epoch", "step", "loss"}``.
        on_epoch_end: called with each epoch's metrics row.

    Several processes (``torchrun``, see :mod:`~pushpull_viz.distributed`): when a process group is
    running, the model trains as ``DistributedDataParallel``. The recipe's batch size is the global batch
    and its learning rate is unchanged, so a run means the same on any number of processes: each rank
    takes its share of every global batch and the loss is scaled so that the averaged gradient is that of
    the global batch's mean loss (exact, also for a smaller last batch). Metrics are summed over the
    ranks; rank 0 alone writes the run folder. ``resume`` works with any number of processes.

    Returns:
        :class:`FitResult`; ``result.history`` is a pandas DataFrame with one row per epoch.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    rank, world_size = distributed.world()
    main = rank == 0
    with contextlib.ExitStack() as stack:
        # every rank checks and sets up; if any fails, all stop with one line naming it
        with distributed.together("starting the run"):
            recipe = get_recipe(recipe, **overrides)
            device = resolve_device(device)
            amp = device.type == "cuda" if amp is None else bool(amp)
            if amp and device.type == "cpu":
                raise ValueError("amp=True needs a CUDA or MPS device (float16 autocast on CPU is not supported here)")
            if sync_batchnorm and (world_size == 1 or device.type != "cuda"):
                raise ValueError("sync_batchnorm=True (--sync-bn) needs several processes on CUDA (torchrun)")
            if world_size > 1:
                distributed.local_batch_size(recipe.batch_size, world_size)  # checks that it divides
            channels_last = device.type == "cuda" if channels_last is None else bool(channels_last)
            train_data, test_data = _split_data(data)
            out = Path(out) if out is not None else None
            if resume and out is None:
                raise ValueError("resume=True needs out= (the run folder holding last.pt)")
            if out is not None and main:  # one process owns the run folder from here to the end
                stack.enter_context(FolderLock(out, "run folder"))
            model.to(device)
            if channels_last:
                model.to(memory_format=torch.channels_last)
            config = {
                "model": getattr(model, "build_config", None),
                "model_class": type(model).__name__,
                "recipe": recipe.to_dict(),
                "seed": int(seed),
                "dataset": dataset,
                "world_size": world_size,
            }
            parameters = [p for p in model.parameters() if p.requires_grad]
            optimizer = torch.optim.SGD(parameters, lr=recipe.lr, momentum=recipe.momentum,
                                        nesterov=recipe.nesterov, weight_decay=recipe.weight_decay)
            train_loader = _as_loader(train_data, recipe, device, seed, True, channels_last)
            test_loader = _as_loader(test_data, recipe, device, seed, False, channels_last)
            steps_per_epoch = len(train_loader)
            if steps_per_epoch == 0:
                raise ValueError("the training data gives no batches")
            scheduler, per_step = _make_scheduler(optimizer, recipe, steps_per_epoch)
            scaler = torch.amp.GradScaler(device.type, enabled=amp and device.type == "cuda")
            history: list[dict[str, Any]] = []
            best_accuracy, best_epoch, start_epoch = None, None, 0
            if world_size > 1 and rank > 0:  # each rank its own dropout draws (restored on resume)
                torch.manual_seed(_epoch_seed_for_rank(seed, rank))

            if out is not None:
                last = out / "last.pt"
                if resume:
                    state = _load_run(last, config)
                    load_state_dict_strict(model, state["model"])
                    optimizer.load_state_dict(state["optimizer"])
                    scheduler.load_state_dict(state["scheduler"])
                    scaler.load_state_dict(state["scaler"])
                    saved_size = state["config"].get("world_size", 1)
                    ranks = state.get("rng_ranks")
                    _set_rng_state(ranks[rank] if ranks and saved_size == world_size else state["rng"])
                    if saved_size != world_size and main:
                        print(f"resuming a run of {saved_size} process(es) with {world_size}: the global batch "
                              f"({recipe.batch_size}), learning rate and data order are unchanged; per-process "
                              "random draws (dropout) and batch-norm statistics over each process's share are "
                              "not, so the weights will not be bit-identical to an uninterrupted run")
                    history = list(state["history"])
                    best_accuracy, best_epoch = state["best_accuracy"], state["best_epoch"]
                    start_epoch = state["epoch"]
                elif last.is_file() and not overwrite:
                    raise FileExistsError(f"{out} already holds a run (last.pt): continue it with resume=True "
                                          "(command line: --resume) or start again with overwrite=True (--overwrite)")
                if main:
                    out.mkdir(parents=True, exist_ok=True)
                    atomic_write_text(out / "config.json", json.dumps(config, indent=2, default=str))

        step_model: nn.Module = model
        if world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            if sync_batchnorm:
                model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            step_model = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
        if compile:
            step_model = torch.compile(step_model)
        label = dataset or getattr(train_data, "name", "data")
        total_steps = recipe.epochs * steps_per_epoch
        processes = f", {world_size} processes" if world_size > 1 else ""
        bar = tqdm(total=total_steps, initial=start_epoch * steps_per_epoch, disable=not (progress and main) or None,
                   desc=f"{_run_name(model)} on {label}{processes}", unit="batch", dynamic_ncols=True)
        train_seconds = sum(float(row.get("train_seconds", 0.0)) for row in history)
        try:
            for epoch in range(start_epoch, recipe.epochs):
                if hasattr(train_loader, "set_epoch"):
                    train_loader.set_epoch(epoch)
                model.train()
                loss_sum = torch.zeros((), device=device)
                correct = torch.zeros((), device=device)
                seen = torch.zeros((), device=device, dtype=torch.int64)
                lr = optimizer.param_groups[0]["lr"]
                start = time.perf_counter()
                for step, (images, labels) in enumerate(train_loader):
                    images = images.to(device, non_blocking=True)
                    labels = labels.to(device, non_blocking=True)
                    batch = labels.shape[0]
                    with torch.autocast(device.type, enabled=amp):
                        logits = step_model(images)
                        if world_size == 1:
                            loss = F.cross_entropy(logits.float(), labels, label_smoothing=recipe.label_smoothing)
                            batch_loss = loss.detach() * batch
                        else:  # DDP averages gradients over ranks: scale so the result is the global batch mean
                            batch_loss = F.cross_entropy(logits.float(), labels, reduction="sum",
                                                         label_smoothing=recipe.label_smoothing)
                            loss = batch_loss * (world_size / _global_batch(train_loader, step, batch, world_size))
                            batch_loss = batch_loss.detach()
                    optimizer.zero_grad(set_to_none=True)
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                    if per_step:
                        scheduler.step()
                    loss_sum += batch_loss
                    correct += (logits.detach().argmax(1) == labels).sum()
                    seen += batch
                    bar.update(1)
                    if step % 20 == 0 or step == steps_per_epoch - 1:
                        mean_loss = loss_sum.item() / seen.item()
                        if not math.isfinite(mean_loss):
                            raise FloatingPointError(
                                f"the training loss became {mean_loss} at epoch {epoch + 1}, step {step + 1}: "
                                f"lower the learning rate (lr={recipe.lr})")
                        bar.set_postfix(epoch=f"{epoch + 1}/{recipe.epochs}", loss=f"{mean_loss:.3f}",
                                        acc=f"{100 * correct.item() / seen.item():.1f}%",
                                        img_s=f"{world_size * seen.item() / (time.perf_counter() - start):.0f}",
                                        refresh=False)
                    if on_step is not None:
                        on_step({"epoch": epoch, "step": step, "loss": loss.detach()})
                if not per_step:
                    scheduler.step()
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                epoch_seconds = time.perf_counter() - start
                distributed.all_sum(loss_sum, correct, seen)
                train_seconds += epoch_seconds
                row = {
                    "epoch": epoch + 1,
                    "lr": lr,
                    "train_loss": loss_sum.item() / seen.item(),
                    "train_accuracy": correct.item() / seen.item(),
                    "train_seconds": epoch_seconds,
                    "images_per_second": seen.item() / epoch_seconds,
                }
                if test_loader is not None:
                    # batch-norm running statistics drift apart per process (each saw its share): use rank 0's,
                    # the ones saved in the checkpoint
                    distributed.broadcast_from_main(*model.buffers())
                    accuracy, test_loss = evaluate_accuracy(model, test_loader, device=device, amp=amp)
                    row.update(test_loss=test_loss, test_accuracy=accuracy)
                    improved = best_accuracy is None or accuracy > best_accuracy
                    if improved:
                        best_accuracy, best_epoch = accuracy, epoch + 1
                else:
                    improved = True
                history.append(row)
                if progress and main:
                    tested = f"test accuracy {100 * row['test_accuracy']:.2f}%, " if test_loader is not None else ""
                    bar.write(f"epoch {epoch + 1}/{recipe.epochs}: train loss {row['train_loss']:.4f}, {tested}"
                              f"{row['images_per_second']:.0f} img/s")
                if out is not None:
                    rng_ranks = distributed.gather_objects(_rng_state()) if world_size > 1 else None
                    if main:
                        _save_run(out, improved, {
                            "format": CHECKPOINT_FORMAT,
                            "config": config,
                            "epoch": epoch + 1,
                            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                            "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(),
                            "scaler": scaler.state_dict(),
                            "rng": _rng_state(),
                            "rng_ranks": rng_ranks,
                            "history": history,
                            "best_accuracy": best_accuracy,
                            "best_epoch": best_epoch,
                        })
                if on_epoch_end is not None:
                    on_epoch_end(dict(row))
        finally:
            bar.close()
        model.eval()
        return FitResult(model, pd.DataFrame(history), best_accuracy, best_epoch, train_seconds, out, config)


def _global_batch(loader: Any, step: int, local: int, world_size: int) -> int:
    """Images in global batch ``step``: the loader says (a last batch may be shared unevenly), else every
    rank's share has the size of this one (``DistributedSampler`` pads to equal shares)."""
    sizes = getattr(loader, "global_batch_size", None)
    return sizes(step) if sizes is not None else local * world_size


def _epoch_seed_for_rank(seed: int, rank: int) -> int:
    return (int(seed) * 1_000_003 + 7_777 * int(rank) + 1) % (2**63 - 1)


def _load_run(last: Path, config: Mapping[str, Any]) -> dict[str, Any]:
    """The checkpoint of the run to resume, checked to be this run (the number of processes may differ)."""
    if not last.is_file():
        raise FileNotFoundError(f"cannot resume: {last} not found (start the run without resume)")
    state = load_checkpoint(last, map_location="cpu")
    if state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointMismatchError(f"{last} is not a pushpull-viz run checkpoint (format "
                                      f"{state.get('format')!r})")
    saved = {k: v for k, v in state["config"].items() if k not in ("dataset", "world_size")}
    if isinstance(saved.get("model"), dict) and "name" in saved["model"]:
        saved["model"] = normalize_build_config(saved["model"])
    now = {k: v for k, v in config.items() if k not in ("dataset", "world_size")}
    differences = _describe_differences(saved, now)
    if differences:
        raise CheckpointMismatchError(f"cannot resume {last}: the run was started differently: "
                                      + "; ".join(differences[:5]))
    return state


def _save_run(out: Path, improved: bool, state: dict[str, Any]) -> None:
    """Write ``last.pt`` (and ``best.pt`` when the epoch improved) and the metrics tables, each atomically."""
    import pandas as pd

    atomic_save(state, out / "last.pt")
    if improved:
        atomic_save(state, out / "best.pt")
    frame = pd.DataFrame(state["history"])
    atomic_write_text(out / "metrics.csv", frame.to_csv(index=False))
    atomic_write_text(out / "metrics.jsonl", frame.to_json(orient="records", lines=True))


def _run_name(model: nn.Module) -> str:
    """How a progress bar names the model: its registry name, and "push-pull" when its first layer is one."""
    name = getattr(model, "model_name", type(model).__name__)
    config = getattr(model, "build_config", None) or {}
    return f"{name} (push-pull)" if config.get("pushpull") else name


def train_or_resume(name: str, out: str | os.PathLike, data, recipe: Recipe, seed: int, device, progress: bool,
                    dataset: str, **build) -> tuple[nn.Module, Any]:
    """Train ``build_model(name, **build)`` in the run folder ``out``: reuse a finished run there,
    resume an unfinished one, start afresh otherwise (or when ``out`` holds another model).

    Returns:
        ``(model in eval mode, history DataFrame)``.
    """
    import pandas as pd

    from .models import load_model_from_checkpoint

    out = Path(out)

    def train(resume: bool) -> tuple[Any, Any]:
        seed_everything(seed)
        result = fit(build_model(name, **build), data, recipe, out=out, resume=resume, overwrite=not resume,
                     seed=seed, device=device, progress=progress, dataset=dataset)
        return result.model.eval(), result.history

    last = out / "last.pt"
    if last.is_file():
        try:
            model = load_model_from_checkpoint(last)
            finished = model.checkpoint_meta.get("epoch") == recipe.epochs
            same = getattr(model, "build_config", {}) == build_model(name, **build).build_config
            if finished and same and (out / "metrics.csv").is_file():
                print(f"reusing the finished run in {out}")
                return model.to(device).eval(), pd.read_csv(out / "metrics.csv")
            print(f"resuming the unfinished run in {out} (epoch {model.checkpoint_meta.get('epoch')} of "
                  f"{recipe.epochs})")
            return train(resume=True)
        except CheckpointMismatchError as error:
            print(f"starting {out} again: {error}")
    return train(resume=False)
