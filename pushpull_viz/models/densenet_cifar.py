"""DenseNet-BC for CIFAR (Huang et al. 2017) with the layout of the authors' code.

A 3x3 conv0 with 24 features, three dense blocks of ``(depth - 4) // 6`` bottleneck
layers (BN-ReLU-1x1 conv to ``4 * growth``, BN-ReLU-3x3 conv to ``growth``), transitions
with compression 0.5 and 2x2 average pooling, a final BN, ReLU, global average pooling
and a linear classifier. Names follow torchvision (``features.denseblock1.denselayer1.conv1``),
as in the authors' checkpoints.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .common import CIFAR10_MEAN, CIFAR10_STD, Normalize, first_layer

__all__ = ["DenseNetCifar"]


class DenseLayer(nn.Module):
    def __init__(self, in_features: int, growth_rate: int, bottleneck: int = 4) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_features)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(in_features, bottleneck * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bottleneck * growth_rate)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bottleneck * growth_rate, growth_rate, 3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.Module):
    def __init__(self, num_layers: int, in_features: int, growth_rate: int) -> None:
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}", DenseLayer(in_features + i * growth_rate, growth_rate))

    def forward(self, x: Tensor) -> Tensor:
        features = x
        for layer in self.children():
            features = torch.cat([features, layer(features)], dim=1)
        return features


class Transition(nn.Sequential):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.add_module("norm", nn.BatchNorm2d(in_features))
        self.add_module("relu", nn.ReLU())
        self.add_module("conv", nn.Conv2d(in_features, out_features, 1, bias=False))
        self.add_module("pool", nn.AvgPool2d(2, 2))


class DenseNetCifar(nn.Module):
    """DenseNet-BC of the given depth and growth rate with an optional push-pull conv0.

    Shape:
        - Input: ``(N, 3, 32, 32)`` images in [0, 1] (normalised inside unless ``normalize=False``).
        - Output: ``(N, num_classes)`` logits.
    """

    def __init__(
        self,
        depth: int = 40,
        growth_rate: int = 12,
        num_classes: int = 10,
        num_init_features: int = 24,
        compression: float = 0.5,
        normalize: bool = True,
        **layer_options,
    ) -> None:
        super().__init__()
        if (depth - 4) % 6:
            raise ValueError(f"DenseNet-BC depth must be 6n + 4 (e.g. 40, 100), got {depth}")
        layers_per_block = (depth - 4) // 6
        self.normalize = Normalize(CIFAR10_MEAN, CIFAR10_STD) if normalize else nn.Identity()
        self.features = nn.Sequential()
        self.features.add_module("conv0", first_layer(3, num_init_features, 3, 1, 1, **layer_options))
        features = num_init_features
        for i in range(3):
            self.features.add_module(f"denseblock{i + 1}", DenseBlock(layers_per_block, features, growth_rate))
            features += layers_per_block * growth_rate
            if i < 2:
                self.features.add_module(f"transition{i + 1}", Transition(features, int(features * compression)))
                features = int(features * compression)
        self.features.add_module("norm_final", nn.BatchNorm2d(features))
        self.relu = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(features, num_classes)
        for name, param in self.named_parameters():  # the authors' initialisation
            if "conv" in name and "weight" in name:
                fan_out = param.size(0) * param.size(2) * param.size(3)
                nn.init.normal_(param, 0.0, math.sqrt(2.0 / fan_out))
            elif "norm" in name and "weight" in name:
                nn.init.ones_(param)
            elif ("norm" in name or "classifier" in name) and "bias" in name:
                nn.init.zeros_(param)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.features(self.normalize(x)))
        return self.classifier(self.flatten(self.avgpool(x)))
