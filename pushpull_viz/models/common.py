"""Pieces shared by the model definitions: input normalisation and the first layer."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..layers import create_pushpull

__all__ = ["CIFAR10_MEAN", "CIFAR10_STD", "MNIST_MEAN", "MNIST_STD", "Normalize", "first_layer"]

# The paper's CIFAR normalisation (section 4), and the usual MNIST statistics.
CIFAR10_MEAN = (125.3 / 255, 123.0 / 255, 113.9 / 255)
CIFAR10_STD = (63.0 / 255, 62.1 / 255, 66.7 / 255)
MNIST_MEAN = (0.1307,)
MNIST_STD = (0.3081,)


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel, in front of a network, so models take images in [0, 1].

    The statistics are non-persistent buffers: they follow ``.to()`` but stay out of
    ``state_dict``, so checkpoints of the bare network load unchanged.

    Shape:
        - Input: ``(N, C, H, W)`` with ``C == len(mean)``; Output: the same.

    Example:
        >>> Normalize((0.5,), (0.25,))(torch.ones(1, 1, 2, 2)).flatten().tolist()
        [2.0, 2.0, 2.0, 2.0]
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        if len(mean) != len(std) or any(s <= 0 for s in std):
            raise ValueError(f"mean and std need one value per channel and std > 0, got {mean}, {std}")
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.mean.shape[1]:
            raise ValueError(
                f"input must have shape (N, {self.mean.shape[1]}, H, W) (images in [0, 1]), got {tuple(x.shape)}"
            )
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        mean = tuple(round(m, 4) for m in self.mean.flatten().tolist())
        std = tuple(round(s, 4) for s in self.std.flatten().tolist())
        return f"mean={mean}, std={std}"


def first_layer(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    bias: bool = False,
    *,
    pushpull: bool = False,
    **pushpull_options,
) -> nn.Module:
    """A model's first layer: an ``nn.Conv2d``, or with ``pushpull=True`` a push-pull layer of the
    same geometry (:func:`~pushpull_viz.layers.create_pushpull`; ``pushpull_options`` such as
    ``alpha``, ``scale``, ``variant`` go to it, and what is not given keeps the layer's default)."""
    if pushpull:
        return create_pushpull(in_channels, out_channels, kernel_size, stride, padding, bias=bias, **pushpull_options)
    if pushpull_options:
        raise TypeError(f"push-pull options {sorted(pushpull_options)} need pushpull=True")
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=bias)
