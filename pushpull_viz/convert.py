"""Swap convolutions of any model for push-pull layers, keeping the trained weights.

The paper suggests putting push-pull into an already trained network and
fine-tuning it; :func:`convert_to_pushpull` does the swap for any ``nn.Module``
(the paper's models, torchvision's ResNets, your own).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import torch
from torch import nn

from .layers import PushPullLayer, create_pushpull, given_options, named_first_conv

__all__ = ["conv_layer_names", "convert_to_pushpull"]


def conv_layer_names(model: nn.Module) -> list[str]:
    """Names of the plain ``nn.Conv2d`` modules of ``model``, in registration order
    (push convs already inside a push-pull layer are not listed)."""
    inside_pushpull = {f"{name}.push" for name, m in model.named_modules() if isinstance(m, PushPullLayer)}
    return [name for name, m in model.named_modules()
            if type(m) is nn.Conv2d and name not in inside_pushpull]


def _padding_of(conv: nn.Conv2d, name: str) -> tuple[int, int]:
    if conv.padding_mode != "zeros":
        raise ValueError(f"layer {name!r} uses padding_mode={conv.padding_mode!r}; push-pull supports 'zeros' only")
    if conv.padding == "valid":
        return (0, 0)
    if conv.padding == "same":
        if any(s != 1 for s in conv.stride) or any(k % 2 == 0 for k in conv.kernel_size):
            raise ValueError(f"layer {name!r}: padding='same' is converted only for stride 1 and odd kernels")
        return tuple(d * (k - 1) // 2 for k, d in zip(conv.kernel_size, conv.dilation, strict=True))  # type: ignore[return-value]
    return conv.padding  # type: ignore[return-value]


def _to_pushpull(conv: nn.Conv2d, name: str, **options) -> PushPullLayer:
    weight = conv.weight
    try:
        layer = create_pushpull(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, _padding_of(conv, name),
            conv.dilation, conv.groups, bias=conv.bias is not None,
            device=weight.device, dtype=weight.dtype, **options,
        )
    except (ValueError, TypeError) as error:
        raise ValueError(f"cannot convert layer {name!r} ({conv}): {error}") from error
    with torch.no_grad():
        layer.push.weight.copy_(weight)
        if conv.bias is not None:
            target = layer.push.bias if layer.push.bias is not None else layer.bias
            target.copy_(conv.bias)
    layer.train(conv.training)
    return layer


def convert_to_pushpull(
    model: nn.Module,
    layers: str | Iterable[str] = "first",
    alpha: float | None = None,
    scale: float | None = None,
    trainable_alpha: bool = False,
    inplace: bool = False,
    **pushpull_kwargs,
) -> nn.Module:
    """Replace convolutions of ``model`` by push-pull layers initialised with their weights.

    Args:
        model: any ``nn.Module``.
        layers: ``"first"`` (the first ``nn.Conv2d`` in registration order, the paper's
            choice), ``"all"``, or a list of module names (see :func:`conv_layer_names`).
        alpha, scale, trainable_alpha: as for :class:`~pushpull_viz.layers.PushPull2d` (``None``: its default).
        inplace: modify ``model`` itself instead of a deep copy.
        **pushpull_kwargs: other layer options (``variant``, ``implementation``, ``avg_kernel_size``;
            see :func:`~pushpull_viz.layers.create_pushpull`).

    Returns:
        The converted model. Output shapes are unchanged and the push kernels are the
        original weights (copied, not re-drawn), on the same device and dtype.

    Example:
        >>> import torchvision
        >>> model = convert_to_pushpull(torchvision.models.resnet18())
        >>> type(model.conv1).__name__, model.conv1.pull_kernel_size
        ('PushPull2d', (15, 15))
    """
    names = conv_layer_names(model)
    if not names:
        raise ValueError("model has no nn.Conv2d layers to convert")
    if isinstance(layers, str):
        if layers == "first":
            name, first = named_first_conv(model)
            if type(first) is not nn.Conv2d:
                raise ValueError(f"the model's first convolution ({name or 'the model itself'}) is already a "
                                 f"{type(first).__name__}; name the layers to convert instead")
            selected = [name]
        elif layers == "all":
            selected = names
        else:
            raise ValueError(f"layers must be 'first', 'all' or a list of conv names, got {layers!r}")
    else:
        selected = list(layers)
        unknown = [n for n in selected if n not in names]
        if unknown:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise ValueError(f"no nn.Conv2d named {unknown} in the model; convolution layers are: {shown}")
    if not inplace:
        model = copy.deepcopy(model)
    options = dict(trainable_alpha=trainable_alpha, **given_options(alpha=alpha, scale=scale), **pushpull_kwargs)
    for name in selected:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, _to_pushpull(getattr(parent, child), name, **options))
    return model
