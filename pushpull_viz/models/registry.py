"""Model registry: ``build_model(name, pushpull=...)`` and ``list_models()``."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..layers import PushPullLayer, given_options
from .alexnet_cifar import AlexNetCifar
from .densenet_cifar import DenseNetCifar
from .lenet import LENET_CONFIGS, LeNet
from .resnet_cifar import ResNetCifar
from .torchvision_models import TORCHVISION_RESNETS, TorchvisionClassifier, torchvision_architectures

__all__ = ["ModelInfo", "MODELS", "build_model", "list_models", "model_info", "normalize_build_config",
           "register_model"]


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about a model: how to build it and what it expects."""

    name: str
    builder: Callable[..., nn.Module]
    input_shape: tuple[int, int, int]
    dataset: str
    description: str
    first_layer: str  # module name of the first convolution (the one push-pull replaces)


MODELS: dict[str, ModelInfo] = {}


def register_model(name: str, builder, input_shape, dataset, description, first_layer) -> None:
    """Add a model to the registry (names are lower-case, unique)."""
    if name in MODELS:
        raise ValueError(f"model {name!r} is already registered")
    MODELS[name] = ModelInfo(name, builder, input_shape, dataset, description, first_layer)


for _key, (_c1, _c2, _hidden) in LENET_CONFIGS.items():
    register_model(
        f"lenet-{_key}", lambda c1=_c1, c2=_c2, hidden=_hidden, **kw: LeNet(c1, c2, hidden, **kw),
        (1, 28, 28), "mnist",
        f"LeNet {_key.upper()} of the paper's Table 1: conv {_c1}/{_c2}, fc {_hidden[0]}-{_hidden[1]}", "conv1",
    )
for _depth in (20, 32, 44, 56):
    register_model(
        f"resnet{_depth}", lambda n=(_depth - 2) // 6, **kw: ResNetCifar(n, **kw),
        (3, 32, 32), "cifar10", f"ResNet-{_depth} for CIFAR ({(_depth - 2) // 6} basic blocks per stage)", "conv1",
    )
for _depth, _growth in ((40, 12), (100, 12), (100, 24)):
    register_model(
        f"densenet{_depth}-{_growth}", lambda d=_depth, g=_growth, **kw: DenseNetCifar(d, g, **kw),
        (3, 32, 32), "cifar10", f"DenseNet-BC-{_depth}-{_growth} for CIFAR", "features.conv0",
    )
register_model(
    "alexnet-cifar", AlexNetCifar, (3, 32, 32), "cifar10",
    "The paper's CIFAR AlexNet (all 3x3 kernels, conv1 stride 2, fc input 1024): the mCE baseline", "features.0",
)

for _arch in TORCHVISION_RESNETS:
    register_model(
        f"tv-{_arch}", lambda arch=_arch, **kw: TorchvisionClassifier(arch, **kw), (3, 224, 224), "imagenet",
        f"torchvision {_arch} (random weights, ImageNet normalisation inside)", "net.conv1",
    )


def _register_torchvision(name: str) -> bool:
    """Register ``tv-<arch>`` for any other torchvision classifier on first use; False if there is none."""
    arch = name[len("tv-"):]
    if not name.startswith("tv-") or arch not in torchvision_architectures():
        return False
    from ..layers import named_first_conv

    first, _ = named_first_conv(TorchvisionClassifier(arch, num_classes=10))
    register_model(name, lambda **kw: TorchvisionClassifier(arch, **kw), (3, 224, 224), "imagenet",
                   f"torchvision {arch} (random weights, ImageNet normalisation inside)", first)
    return True


def list_models() -> list[str]:
    """Names accepted by :func:`build_model`."""
    return sorted(MODELS)


def model_info(name: str) -> ModelInfo:
    """Registry entry for ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    key = name.lower() if isinstance(name, str) else name
    if key not in MODELS and not (isinstance(key, str) and _register_torchvision(key)):
        close = difflib.get_close_matches(str(name).lower(), list(MODELS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown model name {name!r}.{hint} Valid names: {', '.join(list_models())}, or "
                         "tv-<arch> for any torchvision classifier")
    return MODELS[key]


def build_model(
    name: str,
    pushpull: bool = False,
    alpha: float | None = None,
    scale: float | None = None,
    trainable_alpha: bool = False,
    num_classes: int = 10,
    **kwargs,
) -> nn.Module:
    """Build a model of the paper by name; ``pushpull=True`` makes its first convolution a
    push-pull layer (:class:`~pushpull_viz.PushPull2d` unless ``variant="2024"``) with the given
    ``alpha`` and ``scale`` (h); ``None`` keeps the layer's defaults (the paper's alpha = 1, h = 2).

    Models take images in [0, 1] and normalise them inside (pass ``normalize=False`` to
    feed normalised images). Extra keyword arguments go to the model (``dropout`` for
    AlexNet) or, when they are push-pull options (``variant``, ``implementation``,
    ``avg_kernel_size``), to the layer.

    Example:
        >>> model = build_model("resnet20", pushpull=True)
        >>> type(model.conv1).__name__, model.conv1.pull_kernel_size
        ('PushPull2d', (7, 7))
    """
    info = model_info(name)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    layer_options = {option: kwargs.pop(option) for option in PUSHPULL_OPTIONS if option in kwargs}
    given = given_options(alpha=alpha, scale=scale)
    if trainable_alpha:
        given["trainable_alpha"] = True
    if not pushpull and (layer_options or given):
        raise ValueError(f"push-pull options ({', '.join([*given, *layer_options])}) need pushpull=True")
    layer_options.update(given)
    model = info.builder(num_classes=num_classes, **kwargs, **({"pushpull": True, **layer_options} if pushpull else {}))
    model.model_name = info.name  # plain attributes, not in the state dict
    # everything needed to build the same model again (saved in this project's checkpoints)
    model.build_config = {"name": info.name, "pushpull": bool(pushpull), **_layer_config(model, info),
                          "num_classes": num_classes, **kwargs}
    return model


def normalize_build_config(config: dict) -> dict:
    """A saved ``build_config`` as :func:`build_model` would write it today (older files recorded
    the unused alpha and scale of plain models, and no layer variant)."""
    config = dict(config)
    if not config.get("pushpull"):
        config = {k: v for k, v in config.items() if k not in ("alpha", "scale", "trainable_alpha")}
    name = config.pop("name")
    return build_model(name, **config).build_config


#: Options of the first layer that ``build_model`` passes on (besides alpha, scale, trainable_alpha).
PUSHPULL_OPTIONS = ("variant", "implementation", "avg_kernel_size")


def _layer_config(model: nn.Module, info: ModelInfo) -> dict:
    """The first layer's settings as built (read off the layer, so defaults are not repeated here)."""
    layer = model.get_submodule(info.first_layer)
    if not isinstance(layer, PushPullLayer):  # push-pull elsewhere (named layers): all share these settings
        layer = next((m for m in model.modules() if isinstance(m, PushPullLayer)), None)
    if layer is None:
        return {}
    config = {"variant": layer.variant, "trainable_alpha": layer.trainable_alpha}
    if not layer.trainable_alpha:
        config["alpha"] = float(layer.alpha)
    for option in ("scale", "implementation", "avg_kernel_size"):
        if hasattr(layer, option):
            config[option] = getattr(layer, option)
    return config
