"""Push-pull layers by name, and the first convolution of a model.

``create_pushpull(..., variant=...)`` is the one place that maps a variant name to its layer
class (as timm's ``create_conv2d`` does for convolution kinds); models, conversion and the
command line build their layers through it. :func:`first_conv` is the one definition of "the
model's first convolution", the layer push-pull replaces and the figures look at.
"""

from __future__ import annotations

from torch import nn

from .base import PushPullLayer
from .push_pull import PushPull2d
from .pushpull_net import PushPullNet2d

__all__ = ["VARIANTS", "create_pushpull", "first_conv", "given_options", "named_first_conv", "named_last_conv"]

#: Variant name -> layer class: ``"2020"`` the paper's layer, ``"2024"`` the PushPull-Net unit.
VARIANTS: dict[str, type[PushPullLayer]] = {"2020": PushPull2d, "2024": PushPullNet2d}


def given_options(**options) -> dict:
    """The options that were given: ``None`` means "not given, keep the layer's default", so the
    defaults live in the layer's signature only (e.g. ``given_options(alpha=None, scale=1.5)``).

    >>> given_options(alpha=None, scale=1.5)
    {'scale': 1.5}
    """
    return {key: value for key, value in options.items() if value is not None}


def create_pushpull(in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                    groups: int = 1, bias: bool = False, *, variant: str = "2020", **options) -> PushPullLayer:
    """A push-pull layer of the named ``variant`` with ``nn.Conv2d``'s geometry arguments.

    ``options`` go to the class: ``alpha``, ``trainable_alpha``, ``device``, ``dtype`` for both;
    ``scale`` and ``implementation`` for ``"2020"``; ``avg_kernel_size`` for ``"2024"``.

    Example:
        >>> type(create_pushpull(3, 8, 3, variant="2024")).__name__
        'PushPullNet2d'
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be '2020' (the paper's layer) or '2024' (PushPull-Net), got {variant!r}")
    layer_class = VARIANTS[variant]
    try:
        return layer_class(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, **options)
    except TypeError as error:
        if "unexpected keyword argument" in str(error):
            message = f"{layer_class.__name__} (variant {variant!r}) does not take that option: {error}"
            raise TypeError(message) from None
        raise


def named_first_conv(model: nn.Module) -> tuple[str, nn.Module]:
    """``(dotted name, layer)`` of the first push-pull layer or ``nn.Conv2d`` of ``model``.

    Modules are searched in registration order (``model.named_modules()``), which for the
    project's models (and most others) is the order of the forward pass. A push-pull layer is
    returned as a whole, not its inner ``.push`` convolution; a layer itself is returned with
    the name ``""``.

    Example:
        >>> net = nn.Sequential(nn.Identity(), PushPull2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3))
        >>> name, layer = named_first_conv(net)
        >>> name, type(layer).__name__
        ('1', 'PushPull2d')
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a push-pull layer, an nn.Conv2d or an nn.Module, got {type(model).__name__}")
    for name, module in model.named_modules():
        if isinstance(module, (PushPullLayer, nn.Conv2d)):
            return name, module
    raise ValueError(f"model ({type(model).__name__}) contains no nn.Conv2d or push-pull layer")


def first_conv(model: nn.Module) -> PushPullLayer | nn.Conv2d:
    """The first push-pull layer or ``nn.Conv2d`` of ``model`` (or the layer itself); see
    :func:`named_first_conv`.

    Example:
        >>> type(first_conv(nn.Sequential(nn.Conv2d(1, 4, 3), PushPull2d(4, 4, 3)))).__name__
        'Conv2d'
    """
    return named_first_conv(model)[1]


def named_last_conv(model: nn.Module) -> tuple[str, nn.Module]:
    """``(dotted name, layer)`` of the last push-pull layer or ``nn.Conv2d`` of ``model`` in registration
    order (the convolution nearest the classifier in the project's models: where Grad-CAM looks).

    Example:
        >>> net = nn.Sequential(PushPull2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.Flatten())
        >>> named_last_conv(net)[0]
        '2'
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    found = None
    inside: set[str] = set()
    for name, module in model.named_modules():
        if any(name.startswith(prefix) for prefix in inside):
            continue  # a push-pull layer's inner .push convolution is part of the layer
        if isinstance(module, PushPullLayer):
            inside.add(f"{name}." if name else "")
            found = (name, module)
        elif isinstance(module, nn.Conv2d):
            found = (name, module)
    if found is None:
        raise ValueError(f"model ({type(model).__name__}) contains no nn.Conv2d or push-pull layer")
    return found
