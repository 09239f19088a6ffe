"""Loading checkpoints: the authors' ``model_best.pth.tar`` files and plain state dicts.

The authors saved ``{"epoch", "best_prec1", "state_dict"}`` with ``torch.save``; those
files hold only tensors and numbers, so they load with ``weights_only=True`` (no
arbitrary code is unpickled). :func:`infer_architecture` reads the architecture off
the state-dict names and shapes, so a checkpoint that does not fit the requested
model is reported as "this is a resnet20 (push-pull) checkpoint", not as a list of
missing keys.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .registry import build_model, model_info, normalize_build_config

__all__ = [
    "CheckpointMismatchError",
    "InferredArchitecture",
    "extract_state_dict",
    "infer_architecture",
    "load_checkpoint",
    "load_model_from_checkpoint",
    "load_state_dict_strict",
]


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model it is loaded into."""


@dataclass(frozen=True)
class InferredArchitecture:
    name: str | None  # registry name, None if not recognised
    pushpull: bool
    trainable_alpha: bool
    num_classes: int | None

    def describe(self) -> str:
        if self.name is None:
            return "an unrecognised architecture"
        extra = " with learned alpha" if self.trainable_alpha else ""
        kind = "push-pull" if self.pushpull else "plain"
        return f"{self.name} ({kind} first layer{extra}, {self.num_classes} classes)"


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint file safely (``weights_only=True``); a missing, truncated or
    foreign file raises an error that names the file."""
    path = Path(path).expanduser()
    if path.is_dir():
        found = sorted(p.name for p in path.iterdir() if p.suffix in (".pt", ".pth", ".tar"))[:4]
        hint = f" (it holds {', '.join(found)})" if found else ""
        raise IsADirectoryError(f"checkpoint {path} is a folder{hint}; give the checkpoint file in it, e.g. "
                                f"{path / (found[0] if found else 'best.pt')}")
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if "global" not in str(error).lower():  # no object reference: not a torch file (garbage, truncated)
            raise CheckpointMismatchError(f"cannot read checkpoint {path}: it is empty, truncated or not a torch "
                                          "file (not a valid pickle)") from None
        # it pickles Python objects (code): refused, never run
        raise CheckpointMismatchError(
            f"{path} is not a plain weights file (it holds Python objects, which are refused for safety); if you "
            f"trust where it came from, convert it once with: python -c \"import torch; torch.save(torch.load("
            f"'{path}', weights_only=False), 'weights.pt')\" and load weights.pt") from None
    except Exception as error:  # empty, truncated or not a torch file
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointMismatchError(f"cannot read checkpoint {path}: it is empty, truncated or not a torch "
                                      f"file ({first_line})") from None
    if not isinstance(data, Mapping):
        raise CheckpointMismatchError(f"checkpoint {path} holds a {type(data).__name__}, not a dict or state dict")
    return dict(data)


def extract_state_dict(checkpoint: Mapping[str, Any]) -> dict[str, Tensor]:
    """The state dict inside a checkpoint: under ``state_dict`` or ``model`` (or the mapping
    itself), with ``module.`` prefixes from ``nn.DataParallel`` removed."""
    for key in ("state_dict", "model", "model_state_dict"):
        if key in checkpoint and isinstance(checkpoint[key], Mapping):
            checkpoint = checkpoint[key]
            break
    state = {}
    for name, value in checkpoint.items():
        if not isinstance(value, Tensor):
            raise CheckpointMismatchError(f"not a state dict: entry {name!r} is a {type(value).__name__}")
        state[name[7:] if name.startswith("module.") else name] = value
    return state


def infer_architecture(state_dict: Mapping[str, Tensor]) -> InferredArchitecture:
    """Recognise a registry model from its state-dict names and shapes."""
    keys = set(state_dict)

    def first_layer(model: str) -> tuple[str, bool, bool] | None:
        """(name, push-pull?, learned alpha?) of the model's first layer, if the state dict has it."""
        prefix = model_info(model).first_layer
        if f"{prefix}.weight" not in keys and f"{prefix}.push.weight" not in keys:
            return None
        return prefix, f"{prefix}.push.weight" in keys, f"{prefix}.alpha" in keys

    if found := first_layer("resnet20"):  # conv1, as in the LeNets
        prefix, pushpull, alpha = found
        if "layer1.0.conv1.weight" in keys and "fc.weight" in keys:
            blocks = len({m.group(1) for k in keys if (m := re.match(r"layer1\.(\d+)\.", k))})
            return InferredArchitecture(f"resnet{6 * blocks + 2}", pushpull, alpha, state_dict["fc.weight"].shape[0])
        if "conv2.weight" in keys and "fc3.weight" in keys:
            weight = state_dict[f"{prefix}.push.weight" if pushpull else f"{prefix}.weight"]
            c1, c2, h1 = weight.shape[0], state_dict["conv2.weight"].shape[0], state_dict["fc1.weight"].shape[0]
            from .lenet import LENET_CONFIGS

            for key, (k1, k2, hidden) in LENET_CONFIGS.items():
                if (k1, k2, hidden[0]) == (c1, c2, h1):
                    return InferredArchitecture(f"lenet-{key}", pushpull, alpha, state_dict["fc3.weight"].shape[0])
    if found := first_layer("densenet40-12"):
        _, pushpull, alpha = found
        layers = len({m.group(1) for k in keys if (m := re.match(r"features\.denseblock1\.denselayer(\d+)\.", k))})
        growth = state_dict["features.denseblock1.denselayer1.conv2.weight"].shape[0]
        return InferredArchitecture(f"densenet{6 * layers + 4}-{growth}", pushpull, alpha,
                                    state_dict["classifier.weight"].shape[0])
    if found := first_layer("alexnet-cifar"):
        _, pushpull, alpha = found
        if "classifier.6.weight" in keys:
            return InferredArchitecture("alexnet-cifar", pushpull, alpha, state_dict["classifier.6.weight"].shape[0])
    return InferredArchitecture(None, False, False, None)


def load_state_dict_strict(model: nn.Module, state_dict: Mapping[str, Tensor]) -> None:
    """``model.load_state_dict(state_dict, strict=True)`` with an error that says which
    architecture the checkpoint is for when it does not fit."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    wrong = [f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
             for k in own if k in state_dict and own[k].shape != state_dict[k].shape]
    if missing or unexpected or wrong:
        found = infer_architecture(state_dict).describe()
        wanted = infer_architecture(own).describe()
        details = []
        if missing:
            details.append(f"missing {len(missing)} keys (e.g. {missing[:3]})")
        if unexpected:
            details.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[:3]})")
        if wrong:
            details.append(f"{len(wrong)} shape mismatches (e.g. {wrong[:2]})")
        raise CheckpointMismatchError(
            f"the checkpoint is for {found}, but the model is {wanted}: " + "; ".join(details)
        )
    model.load_state_dict(state_dict, strict=True)


def load_model_from_checkpoint(
    checkpoint: str | os.PathLike | Mapping[str, Any],
    name: str | None = None,
    pushpull: bool | None = None,
    map_location: str | torch.device = "cpu",
    **build_kwargs,
) -> nn.Module:
    """Build the model a checkpoint was trained as and load its weights strictly.

    ``name`` and ``pushpull`` default to what the checkpoint's state dict shows; when
    given, they are checked against it. Works for the authors' ``model_best.pth.tar``
    files (``best_prec1`` may be a float or a tensor) and for plain state dicts.

    Example (the authors' ResNet-20-PP):
        >>> model = load_model_from_checkpoint("model_best.pth.tar", "resnet20")  # doctest: +SKIP
    """
    data = load_checkpoint(checkpoint, map_location) if not isinstance(checkpoint, Mapping) else checkpoint
    state_dict = extract_state_dict(data)
    found = infer_architecture(state_dict)
    config = data.get("config")
    if isinstance(config, Mapping) and isinstance(config.get("model"), Mapping):
        # this project's run checkpoints say how the model was built (alpha and scale are not in the state dict)
        saved = normalize_build_config(config["model"])
        saved_name = saved.pop("name")
        if name is not None and model_info(name).name != saved_name:
            raise CheckpointMismatchError(f"the checkpoint is for {saved_name}, but name={name!r} was requested")
        if pushpull is not None and bool(pushpull) != saved.get("pushpull"):
            raise CheckpointMismatchError(
                f"the checkpoint is for {saved_name} with pushpull={saved.get('pushpull')}, "
                f"but pushpull={pushpull} was requested")
        name = saved_name
        for key, value in saved.items():
            build_kwargs.setdefault(key, value)
        pushpull = build_kwargs.pop("pushpull")
    if name is None:
        if found.name is None:
            raise CheckpointMismatchError("cannot tell the architecture of this checkpoint; pass name=")
        name = found.name
    model_info(name)  # unknown names fail here with the list of valid ones
    pushpull = found.pushpull if pushpull is None else pushpull
    build_kwargs.setdefault("num_classes", found.num_classes or 10)
    if found.trainable_alpha and pushpull:
        build_kwargs.setdefault("trainable_alpha", True)
    model = build_model(name, pushpull=pushpull, **build_kwargs)
    load_state_dict_strict(model, state_dict)
    meta = {k: (v.item() if isinstance(v, Tensor) and v.numel() == 1 else v)
            for k, v in data.items()
            if k not in ("state_dict", "model", "model_state_dict", "optimizer", "scheduler", "scaler", "rng")}
    model.checkpoint_meta = {k: v for k, v in meta.items() if isinstance(v, (int, float, str, bool))}
    return model
