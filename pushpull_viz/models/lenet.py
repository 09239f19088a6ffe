"""LeNet variants of the paper's MNIST study (Table 1), for 1 x 28 x 28 inputs.

Two 5x5 convolutions, each followed by a ReLU and 2x2 max-pooling, then three fully
connected layers. The paper gives the channel and unit counts; the 5x5 kernels,
padding 2 on the first conv (LeNet-5 on 28x28 MNIST) and ReLU are our choices,
since the paper does not state them.
"""

from __future__ import annotations

from torch import Tensor, nn

from .common import MNIST_MEAN, MNIST_STD, Normalize, first_layer

__all__ = ["LeNet", "LENET_CONFIGS"]

# name: (conv1 channels, conv2 channels, (fc1, fc2) units); the last layer has num_classes units.
LENET_CONFIGS = {
    "a": (6, 16, (128, 64)),
    "b": (6, 8, (64, 32)),
    "c": (4, 16, (128, 64)),
    "d": (4, 8, (64, 32)),
}


class LeNet(nn.Module):
    """LeNet with an optional push-pull first layer.

    Shape:
        - Input: ``(N, 1, 28, 28)``, images in [0, 1] (normalised inside unless ``normalize=False``).
        - Output: ``(N, num_classes)`` logits.
    """

    def __init__(
        self,
        conv1_channels: int,
        conv2_channels: int,
        hidden: tuple[int, int],
        num_classes: int = 10,
        in_channels: int = 1,
        normalize: bool = True,
        **layer_options,
    ) -> None:
        super().__init__()
        self.normalize = Normalize(MNIST_MEAN, MNIST_STD) if normalize and in_channels == 1 else nn.Identity()
        self.conv1 = first_layer(in_channels, conv1_channels, 5, padding=2, bias=True, **layer_options)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(conv1_channels, conv2_channels, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(conv2_channels * 5 * 5, hidden[0])
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(hidden[0], hidden[1])
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(hidden[1], num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1(self.relu1(self.conv1(self.normalize(x))))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.flatten(x)))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)
