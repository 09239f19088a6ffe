"""The CUDA path: the layer against the formula, precisions, compile, models, fit and the corruption engine.

Marked ``gpu``: skipped by default and on machines without CUDA. Run with ``pytest -m gpu tests/test_gpu.py``
on a GPU machine (``benchmarks/gpu_checks.sh`` does, and writes the corruption parity table when
``PUSHPULL_GPU_REPORT`` names a CSV file). ``PUSHPULL_GPU_TEST_DEVICE=cpu`` dry-runs the same checks on
the CPU (the CPU-versus-device comparisons then compare the CPU with itself).
"""

from __future__ import annotations

import csv
import os

import pytest
import torch

from pushpull_viz import PushPull2d, push_pull2d_reference
from pushpull_viz.corruptions import CIFAR10C_ALL, corrupt
from pushpull_viz.data import load_cifar10_jpeg75, resolve_data_root
from pushpull_viz.models import build_model
from pushpull_viz.train import fit

DEVICE = os.environ.get("PUSHPULL_GPU_TEST_DEVICE", "cuda")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(DEVICE == "cuda" and not torch.cuda.is_available(), reason="needs CUDA"),
]


@pytest.fixture(autouse=True)
def _exact_float32():
    """Full float32 convolutions and products (no TF32) unless a test turns them on."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return ((a - b).norm() / b.norm().clamp_min(1e-12)).item()


def reference(layer: PushPull2d, x: torch.Tensor) -> torch.Tensor:
    """The formula in float64 on the CPU."""
    push = layer.push
    bias = None if push.bias is None else push.bias.detach().double().cpu()
    return push_pull2d_reference(x.detach().double().cpu(), push.weight.detach().double().cpu(), bias,
                                 float(layer.alpha), layer.scale, push.stride, push.padding, push.dilation, push.groups)


# ----------------------------------------------------------------------------- the layer
@pytest.mark.parametrize("implementation", ["auto", "direct", "blur"])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("kernel,stride,scale,bias", [(3, 1, 2.0, False), (5, 2, 2.0, True), (3, 1, 1.5, True),
                                                      (7, 1, 3.0, False)])
def test_layer_float32_matches_formula(implementation, channels_last, kernel, stride, scale, bias):
    layer = PushPull2d(3, 16, kernel, stride=stride, padding=kernel // 2, bias=bias, scale=scale,
                       implementation=implementation).to(DEVICE)
    x = torch.rand(4, 3, 32, 32, device=DEVICE)
    if channels_last:
        layer, x = layer.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    out = layer(x)
    assert out.device.type == torch.device(DEVICE).type
    assert relative_error(out, reference(layer, x)) < 1e-5


def test_layer_with_tf32_stays_close():
    torch.backends.cudnn.allow_tf32 = True
    layer = PushPull2d(3, 16, 3, padding=1).to(DEVICE)
    x = torch.rand(8, 3, 32, 32, device=DEVICE)
    assert relative_error(layer(x), reference(layer, x)) < 3e-3


@pytest.mark.parametrize("dtype,tolerance", [(torch.float16, 5e-3), (torch.bfloat16, 3e-2)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_layer_autocast(dtype, tolerance, channels_last):
    layer = PushPull2d(3, 16, 3, padding=1).to(DEVICE)
    x = torch.rand(8, 3, 32, 32, device=DEVICE)
    if channels_last:
        layer, x = layer.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    with torch.autocast(torch.device(DEVICE).type, dtype=dtype):
        out = layer(x)
    assert out.dtype == dtype
    assert torch.isfinite(out).all()
    assert relative_error(out, reference(layer, x)) < tolerance


def test_gradients_match_the_formula_on_device():
    layer = PushPull2d(3, 8, 3, padding=1, bias=True).to(DEVICE).double()
    x = torch.rand(2, 3, 16, 16, device=DEVICE, dtype=torch.float64, requires_grad=True)
    layer(x).square().sum().backward()
    weight = layer.push.weight.detach().clone().requires_grad_(True)
    bias = layer.push.bias.detach().clone().requires_grad_(True)
    x_ref = x.detach().clone().requires_grad_(True)
    push_pull2d_reference(x_ref, weight, bias, 1.0, 2.0, 1, 1).square().sum().backward()
    # 1e-6, not 1e-12: the reference upsamples with F.interpolate, which rounds its coordinates its own way
    assert relative_error(layer.push.weight.grad, weight.grad) < 1e-6
    assert relative_error(x.grad, x_ref.grad) < 1e-6
    assert torch.autograd.gradcheck(lambda t: layer(t), (x[:1, :, :6, :6].detach().requires_grad_(True),))


def test_torch_compile_inductor_matches_eager():
    layer = PushPull2d(3, 16, 3, padding=1).to(DEVICE)
    x = torch.rand(8, 3, 32, 32, device=DEVICE)
    compiled = torch.compile(layer)
    out = compiled(x)
    assert relative_error(out, layer(x)) < 1e-5
    out.square().sum().backward()
    grad = layer.push.weight.grad.clone()
    layer.zero_grad()
    layer(x).square().sum().backward()
    assert relative_error(grad, layer.push.weight.grad) < 1e-4


def test_pull_kernel_follows_the_weights_across_devices():
    layer = PushPull2d(3, 8, 3, padding=1)
    x = torch.rand(2, 3, 16, 16)
    layer(x)  # used on the CPU first
    layer = layer.to(DEVICE)
    with torch.no_grad():
        layer.push.weight.mul_(-1.5)  # changed in place on the device
    xd = x.to(DEVICE)
    assert relative_error(layer(xd), reference(layer, xd)) < 1e-5
    layer = layer.cpu()
    with torch.no_grad():
        layer.push.weight.add_(0.25)
    assert relative_error(layer(x), reference(layer, x)) < 1e-5


# ----------------------------------------------------------------------------- models and training
@pytest.mark.parametrize("name", ["resnet20", "densenet40-12", "alexnet-cifar", "lenet-a"])
@pytest.mark.parametrize("pushpull", [False, True])
def test_models_give_the_cpu_outputs(name, pushpull):
    torch.manual_seed(0)
    model = build_model(name, pushpull=pushpull).eval()
    shape = (1, 28, 28) if name.startswith("lenet") else (3, 32, 32)
    x = torch.rand(4, *shape)
    with torch.no_grad():
        expected = model(x)
        model = model.to(DEVICE)
        out = model(x.to(DEVICE))
        out_cl = model.to(memory_format=torch.channels_last)(x.to(DEVICE).contiguous(
            memory_format=torch.channels_last))
    assert relative_error(out, expected) < 1e-4
    assert relative_error(out_cl, expected) < 1e-4


def _tiny_cifar(n: int = 256):
    from pushpull_viz.data import ImageTensors

    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (n,), generator=g)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    return ImageTensors(images, labels, tuple(str(c) for c in range(10)), name="random")


def test_fit_with_amp_and_channels_last_then_resume(tmp_path):
    data = _tiny_cifar()
    amp = torch.device(DEVICE).type == "cuda"
    torch.manual_seed(0)

    class Stop(Exception):
        pass

    def stop_after_first(row):
        if row["epoch"] == 1:
            raise Stop

    model = build_model("resnet20", pushpull=True)
    with pytest.raises(Stop):
        fit(model, (data, data), "resnet-gpu", epochs=2, batch_size=64, device=DEVICE, amp=amp, out=tmp_path,
            progress=False, on_epoch_end=stop_after_first)
    assert model.conv1.push.weight.is_contiguous(memory_format=torch.channels_last) == amp
    torch.manual_seed(0)
    resumed = fit(build_model("resnet20", pushpull=True), (data, data), "resnet-gpu", epochs=2, batch_size=64,
                  device=DEVICE, amp=amp, out=tmp_path, resume=True, progress=False)
    assert list(resumed.history["epoch"]) == [1, 2]
    assert resumed.history["train_loss"].notna().all() and torch.isfinite(
        torch.tensor(resumed.history["train_loss"].to_numpy())).all()
    assert next(resumed.model.parameters()).device.type == torch.device(DEVICE).type


# ----------------------------------------------------------------------------- corruptions
@pytest.fixture(scope="module")
def cifar_images() -> torch.Tensor:
    root = resolve_data_root(required=False)
    if root is not None and (root / "cifar10-jpeg75" / "cifar10-jpeg75.zip").is_file():
        return load_cifar10_jpeg75("test", root, per_class=26)[0]
    g = torch.Generator().manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(260, 3, 8, 8, generator=g), size=32, mode="bilinear")
    return (255 * smooth).round().to(torch.uint8)


def _report(row: dict) -> None:
    path = os.environ.get("PUSHPULL_GPU_REPORT")
    if not path:
        return
    new = not os.path.exists(path)
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


@pytest.mark.parametrize("severity", [3, 5])
@pytest.mark.parametrize("name", CIFAR10C_ALL)
def test_corrupt_on_device_agrees_with_cpu(name, severity, cifar_images):
    """Deterministic corruptions give the CPU's images (to rounding); random ones the CPU's statistics,
    and the same images again for the same seeded device generator."""
    images = cifar_images
    cpu_a = corrupt(images, name, severity, torch.Generator().manual_seed(0))
    cpu_b = corrupt(images, name, severity, torch.Generator().manual_seed(1))
    deterministic = torch.equal(cpu_a, cpu_b)
    on_device = images.to(DEVICE)
    dev_a = corrupt(on_device, name, severity, torch.Generator(device=DEVICE).manual_seed(0))
    dev_again = corrupt(on_device, name, severity, torch.Generator(device=DEVICE).manual_seed(0))
    assert dev_a.dtype == torch.uint8 and dev_a.device == on_device.device and dev_a.shape == images.shape
    dev_a, dev_again = dev_a.cpu(), dev_again.cpu()
    same_seed_max = (dev_a.int() - dev_again.int()).abs().max().item()
    versus_cpu = (dev_a.int() - cpu_a.int()).abs().float()
    change_cpu = (cpu_a.int() - images.int()).abs().float()
    change_dev = (dev_a.int() - images.int()).abs().float()
    _report({"corruption": name, "severity": severity, "deterministic_on_cpu": deterministic,
             "same_seed_identical_on_device": same_seed_max == 0, "same_seed_max_diff": same_seed_max,
             "mean_abs_diff_vs_cpu": round(versus_cpu.mean().item(), 4),
             "max_abs_diff_vs_cpu": versus_cpu.max().item(),
             "mean_change_cpu": round(change_cpu.mean().item(), 3),
             "mean_change_device": round(change_dev.mean().item(), 3),
             "std_change_cpu": round(change_cpu.std().item(), 3),
             "std_change_device": round(change_dev.std().item(), 3)})
    assert same_seed_max <= 1, f"{name}: the same seeded generator gave images {same_seed_max} grey levels apart"
    if deterministic:
        assert versus_cpu.mean().item() < 0.5, f"{name}: device images differ from the CPU's"
    mean_cpu, mean_dev = change_cpu.mean().item(), change_dev.mean().item()
    assert abs(mean_dev - mean_cpu) <= 0.15 * mean_cpu + 1.0, f"{name}: mean change {mean_dev} vs CPU {mean_cpu}"
    std_cpu, std_dev = change_cpu.std().item(), change_dev.std().item()
    assert abs(std_dev - std_cpu) <= 0.2 * std_cpu + 1.0, f"{name}: spread of change {std_dev} vs CPU {std_cpu}"
