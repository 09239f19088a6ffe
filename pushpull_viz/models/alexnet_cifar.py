"""The paper's CIFAR AlexNet, the baseline that normalises corruption errors (paper Fig. 8).

AlexNet adapted to 32x32 inputs: all kernels 3x3, conv1 with stride 2, 2x2 max-pooling
after conv1, conv2 and conv5 (16 -> 8 -> 4 -> 2), so the first fully connected layer
takes 256 * 2 * 2 = 1024 inputs; then 4096, 4096 and the classes, with dropout 0.5
before the two hidden fully connected layers as in AlexNet.
"""

from __future__ import annotations

from torch import Tensor, nn

from .common import CIFAR10_MEAN, CIFAR10_STD, Normalize, first_layer

__all__ = ["AlexNetCifar"]


class AlexNetCifar(nn.Module):
    """CIFAR AlexNet with an optional push-pull conv1.

    Shape:
        - Input: ``(N, 3, 32, 32)`` images in [0, 1]; Output: ``(N, num_classes)`` logits.
    """

    def __init__(self, num_classes: int = 10, normalize: bool = True, dropout: float = 0.5, **layer_options) -> None:
        super().__init__()
        self.normalize = Normalize(CIFAR10_MEAN, CIFAR10_STD) if normalize else nn.Identity()
        self.features = nn.Sequential(
            first_layer(3, 64, 3, 2, 1, bias=True, **layer_options), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 2 * 2, 4096), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.flatten(self.features(self.normalize(x))))
