"""ResNet-20/32/44/56 for CIFAR (He et al. 2016), with the layout of the authors' code.

conv1 3->16 (3x3), three stages of 16/32/64 channels with n basic blocks each
(depth = 6n + 2), a 1x1 conv + BN shortcut where the shape changes, global
average pooling and a linear classifier. State-dict names match the authors'
checkpoints (``conv1[.push].weight``, ``layer2.0.downsample.0.weight``, ...).
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from .common import CIFAR10_MEAN, CIFAR10_STD, Normalize, first_layer

__all__ = ["BasicBlock", "ResNetCifar"]


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN layers with an identity (or 1x1 conv + BN) shortcut."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU()
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + shortcut)


class ResNetCifar(nn.Module):
    """CIFAR ResNet of depth ``6 * blocks_per_stage + 2`` with an optional push-pull conv1.

    Shape:
        - Input: ``(N, 3, 32, 32)`` images in [0, 1] (normalised inside unless ``normalize=False``).
        - Output: ``(N, num_classes)`` logits.
    """

    def __init__(self, blocks_per_stage: int, num_classes: int = 10, normalize: bool = True, **layer_options) -> None:
        super().__init__()
        self.normalize = Normalize(CIFAR10_MEAN, CIFAR10_STD) if normalize else nn.Identity()
        self.conv1 = first_layer(3, 16, 3, 1, 1, **layer_options)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        in_planes = 16
        for index, (planes, stride) in enumerate([(16, 1), (32, 2), (64, 2)], start=1):
            blocks = []
            for b in range(blocks_per_stage):
                blocks.append(BasicBlock(in_planes, planes, stride if b == 0 else 1))
                in_planes = planes
            self.add_module(f"layer{index}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, num_classes)
        for module in self.modules():  # the authors' initialisation
            if isinstance(module, nn.Conv2d):
                fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels
                nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(self.normalize(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.flatten(self.avgpool(x)))
