"""The paper's models: LeNet A-D, CIFAR ResNets and DenseNet-BCs, the CIFAR AlexNet baseline."""

from .alexnet_cifar import AlexNetCifar
from .checkpoints import (
    CheckpointMismatchError,
    extract_state_dict,
    infer_architecture,
    load_checkpoint,
    load_model_from_checkpoint,
    load_state_dict_strict,
)
from .common import CIFAR10_MEAN, CIFAR10_STD, MNIST_MEAN, MNIST_STD, Normalize
from .densenet_cifar import DenseNetCifar
from .lenet import LeNet
from .registry import MODELS, ModelInfo, build_model, list_models, model_info, normalize_build_config, register_model
from .resnet_cifar import ResNetCifar

__all__ = [
    "AlexNetCifar", "CIFAR10_MEAN", "CIFAR10_STD", "CheckpointMismatchError", "DenseNetCifar", "LeNet",
    "MNIST_MEAN", "MNIST_STD", "MODELS", "ModelInfo", "Normalize", "ResNetCifar", "build_model",
    "extract_state_dict", "infer_architecture", "list_models", "load_checkpoint", "load_model_from_checkpoint",
    "load_state_dict_strict", "model_info", "normalize_build_config", "register_model",
]
