"""convert_to_pushpull on the paper's models and on torchvision's ResNets."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from pushpull_viz import PushPull2d, build_model, conv_layer_names, convert_to_pushpull


@pytest.mark.parametrize("ctor,n_convs", [(torchvision.models.resnet18, 20), (torchvision.models.resnet50, 53)])
def test_torchvision_resnets(ctor, n_convs):
    torch.manual_seed(0)
    model = ctor(num_classes=10).eval()
    x = torch.rand(2, 3, 64, 64)
    first = convert_to_pushpull(model)
    assert isinstance(first.conv1, PushPull2d) and first.conv1.pull_kernel_size == (15, 15)
    assert torch.equal(first.conv1.push.weight, model.conv1.weight)
    assert first.conv1.push.weight.data_ptr() != model.conv1.weight.data_ptr()  # copied
    assert isinstance(model.conv1, nn.Conv2d)  # the original is untouched
    assert first(x).shape == model(x).shape == (2, 10)
    everything = convert_to_pushpull(model, layers="all")
    assert sum(isinstance(m, PushPull2d) for m in everything.modules()) == n_convs
    assert everything(x).shape == (2, 10)


def test_alpha_zero_conversion_is_relu_of_the_original_conv():
    conv = nn.Conv2d(3, 8, 3, 2, 1, bias=True)
    converted = convert_to_pushpull(nn.Sequential(conv), alpha=0.0)[0]
    x = torch.rand(2, 3, 16, 16)
    assert torch.allclose(converted(x), F.relu(conv(x)), atol=1e-6)


def test_named_layers_and_inplace():
    model = build_model("resnet20")
    names = conv_layer_names(model)
    assert names[0] == "conv1" and "layer2.0.downsample.0" in names
    converted = convert_to_pushpull(model, layers=["layer1.0.conv1", "layer2.0.downsample.0"], inplace=True)
    assert converted is model
    assert isinstance(model.layer1[0].conv1, PushPull2d)
    assert isinstance(model.layer2[0].downsample[0], PushPull2d)
    assert "layer1.0.conv1" not in conv_layer_names(model)
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_converted_state_dict_loads_into_pushpull_model():
    plain = build_model("resnet20")
    converted = convert_to_pushpull(plain)
    build_model("resnet20", pushpull=True).load_state_dict(converted.state_dict(), strict=True)


def test_converted_model_fine_tunes():
    model = convert_to_pushpull(build_model("lenet-a"))
    before = model.conv1.push.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    F.cross_entropy(model(torch.rand(8, 1, 28, 28)), torch.randint(0, 10, (8,))).backward()
    optimizer.step()
    assert not torch.equal(before, model.conv1.push.weight)


def test_conversion_errors():
    model = build_model("resnet20")
    with pytest.raises(ValueError, match=r"no nn.Conv2d named \['conv9'\].*conv1, layer1.0.conv1"):
        convert_to_pushpull(model, layers=["conv9"])
    with pytest.raises(ValueError, match="'first', 'all' or a list"):
        convert_to_pushpull(model, layers="last")
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        convert_to_pushpull(nn.Linear(3, 3))
    with pytest.raises(ValueError, match="layer '0'.*padding_mode='reflect'"):
        convert_to_pushpull(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect")))
    with pytest.raises(ValueError, match="layer '0'.*even push kernel"):
        convert_to_pushpull(nn.Sequential(nn.Conv2d(3, 4, 4, stride=4)))  # a patchify stem
    ok = convert_to_pushpull(nn.Sequential(nn.Conv2d(3, 4, 4, stride=4)), scale=1.0)
    assert ok(torch.rand(1, 3, 16, 16)).shape == (1, 4, 4, 4)


def test_same_padding_is_converted():
    model = nn.Sequential(nn.Conv2d(3, 4, 5, padding="same"))
    converted = convert_to_pushpull(model, alpha=0.0)
    x = torch.rand(1, 3, 9, 9)
    assert torch.allclose(converted(x), F.relu(model(x)), atol=1e-6)
