"""PushPull2d against the paper's formula: every fast route, geometry, no stale output, errors."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from pushpull_viz import PushPull2d, push_pull2d, push_pull2d_reference
from pushpull_viz.layers import (
    PushPullNet2d,
    create_pushpull,
    interpolation_matrix,
    pull_geometry,
    pull_kernel_size,
    pushpull_net_pull_kernel,
    select_route,
)


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()


def reference_of(layer: PushPull2d, x: torch.Tensor) -> torch.Tensor:
    push = layer.push
    return push_pull2d_reference(x, push.weight, push.bias, layer.alpha, layer.scale, push.stride, push.padding,
                                 push.dilation, push.groups)


# ----------------------------------------------------------------------------- geometry
@pytest.mark.parametrize("size,scale,expected", [(3, 2, 7), (5, 2, 11), (7, 2, 15), (3, 1.5, 5), (3, 1, 3), (5, 1, 5),
                                                 (3, 2.5, 7), (1, 2, 3), (4, 1, 4)])
def test_pull_kernel_size_rule(size, scale, expected):
    assert pull_kernel_size(size, scale) == expected


def test_pull_padding_keeps_sizes_and_scales_with_dilation():
    assert pull_geometry(3, 2.0, padding=1, dilation=1) == ((7, 7), (3, 3))
    assert pull_geometry(3, 2.0, padding=2, dilation=2) == ((7, 7), (6, 6))
    assert pull_geometry((3, 5), 2.0, padding=(1, 2)) == ((7, 11), (3, 5))


def test_interpolation_matrix_equals_torch_bilinear_align_corners():
    weight = torch.randn(4, 3, 3, 5, dtype=torch.float64)
    for out_h, out_w in [(7, 11), (5, 5), (3, 5), (9, 13)]:
        expected = F.interpolate(weight, size=(out_h, out_w), mode="bilinear", align_corners=True)
        ours = interpolation_matrix(3, out_h, torch.float64) @ weight @ interpolation_matrix(5, out_w, torch.float64).T
        assert relative_error(ours, expected) < 1e-6


def test_pull_weight_is_negated_bilinear_upsampling():
    layer = PushPull2d(3, 8, 3, padding=1)
    expected = -F.interpolate(layer.push.weight, size=(7, 7), mode="bilinear", align_corners=True)
    assert layer.pull_weight.shape == (8, 3, 7, 7)
    assert relative_error(layer.pull_weight, expected) < 1e-6
    layer.scale = 1.0
    assert torch.allclose(layer.pull_weight, -layer.push.weight)


# ----------------------------------------------------------------------------- fast paths vs reference
CASES = list(itertools.product(
    [3, (3, 5), 5, 1],          # kernel size (non-square included)
    [1, 2],                     # stride
    [1, 2],                     # dilation
    [1, 3],                     # groups
    [False, True],              # bias
    [1.0, 1.5, 2.0, 2.5],       # scale h
))


@pytest.mark.parametrize("implementation", ["direct", "blur", "auto"])
@pytest.mark.parametrize("kernel,stride,dilation,groups,bias,scale", CASES)
def test_fast_paths_match_reference_float32(implementation, kernel, stride, dilation, groups, bias, scale):
    torch.manual_seed(0)
    padding = 1 if kernel != 1 else 0
    layer = PushPull2d(6, 9, kernel, stride, padding, dilation, groups, bias, alpha=0.7, scale=scale,
                       implementation=implementation)
    x = torch.rand(2, 6, 15, 17)
    expected = reference_of(layer, x)
    assert layer(x).shape == nn.Conv2d(6, 9, kernel, stride, padding, dilation, groups)(x).shape
    assert relative_error(layer(x), expected) < 1e-5
    functional = push_pull2d(x, layer.push.weight, layer.push.bias, 0.7, scale, stride, padding, dilation, groups,
                             implementation=implementation)
    assert relative_error(functional, expected) < 1e-5


@pytest.mark.parametrize("implementation", ["direct", "blur"])
@pytest.mark.parametrize("scale", [1.0, 1.5, 2.0, 2.5])
def test_channels_last_and_learned_alpha_match_reference(implementation, scale, device):
    torch.manual_seed(1)
    layer = PushPull2d(3, 16, 3, padding=1, scale=scale, trainable_alpha=True, implementation=implementation).to(device)
    x = torch.rand(4, 3, 32, 32, device=device)
    expected = reference_of(layer, x)
    layer = layer.to(memory_format=torch.channels_last)
    out = layer(x.contiguous(memory_format=torch.channels_last))
    assert relative_error(out, expected) < 1e-5
    out.sum().backward()
    assert layer.alpha.grad is not None and layer.push.weight.grad is not None


@pytest.mark.parametrize("implementation,scale,bias,trainable", [
    ("direct", 2.0, True, False), ("blur", 2.0, True, False), ("direct", 1.5, False, True),
    ("blur", 2.5, False, True), ("auto", 1.0, True, False), ("reference", 2.0, True, True),
])
def test_gradcheck_float64(implementation, scale, bias, trainable):
    torch.manual_seed(2)
    layer = PushPull2d(2, 3, 3, stride=1, padding=1, bias=bias, scale=scale, trainable_alpha=trainable,
                       implementation=implementation).double()
    x = torch.rand(1, 2, 7, 6, dtype=torch.float64, requires_grad=True)
    names, params = zip(*layer.named_parameters(), strict=True)

    def fn(inp, *ps):
        return torch.func.functional_call(layer, dict(zip(names, ps, strict=True)), (inp,))

    assert torch.autograd.gradcheck(fn, (x, *params), eps=1e-6, atol=1e-5)


def test_gradients_equal_reference_gradients():
    torch.manual_seed(3)
    fast = PushPull2d(3, 8, 3, padding=1, bias=True, implementation="blur").double()
    ref = PushPull2d(3, 8, 3, padding=1, bias=True, implementation="reference").double()
    ref.load_state_dict(fast.state_dict())
    x = torch.rand(2, 3, 12, 12, dtype=torch.float64)
    grad = torch.randn(2, 8, 12, 12, dtype=torch.float64)
    fast(x).backward(grad)
    ref(x).backward(grad)
    # F.interpolate (inside the reference) computes its sampling coordinates in float32
    # precision even for float64 tensors, so the reference itself is good to ~1e-7.
    assert relative_error(fast.push.weight.grad, ref.push.weight.grad) < 1e-6
    assert relative_error(fast.push.bias.grad, ref.push.bias.grad) < 1e-6


# ----------------------------------------------------------------------------- semantics
def test_formula_by_hand_with_bias():
    torch.manual_seed(4)
    layer = PushPull2d(1, 1, 3, padding=1, bias=True, alpha=0.5)
    x = torch.rand(1, 1, 9, 9)
    w, b = layer.push.weight, layer.push.bias
    k_up = F.interpolate(w, size=(7, 7), mode="bilinear", align_corners=True)
    expected = F.relu(F.conv2d(x, w, b, padding=1)) - 0.5 * F.relu(F.conv2d(x, -k_up, -b, padding=3))
    assert relative_error(layer(x), expected) < 1e-5


def test_scale_one_uses_the_push_kernel():
    layer = PushPull2d(3, 4, 3, padding=1, scale=1.0, alpha=2.0)
    x = torch.rand(2, 3, 8, 8)
    push = layer.push(x)
    assert torch.allclose(layer(x), F.relu(push) - 2.0 * F.relu(-push))


def test_responses_recombine_to_output():
    layer = PushPull2d(3, 5, 5, padding=2, alpha=1.3)
    x = torch.rand(2, 3, 16, 16)
    push, pull = layer.push_pull_responses(x)
    assert (push >= 0).all() and (pull >= 0).all()
    # the forward pass folds alpha into the pull kernel: equal up to float rounding
    torch.testing.assert_close(layer(x), push - 1.3 * pull, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scale", [1.0, 2.0])
@pytest.mark.parametrize("trainable_alpha", [False, True])
def test_hooked_branch_relus_run_as_written_with_the_same_result(scale, trainable_alpha):
    """Captum's guided methods hook the branch ReLUs: the forward pass then runs them, and
    computes the same function and gradients as the fused form."""
    torch.manual_seed(0)
    layer = PushPull2d(3, 4, 3, padding=1, bias=True, scale=scale, alpha=0.7, trainable_alpha=trainable_alpha).double()
    x = torch.rand(2, 3, 9, 9, dtype=torch.float64, requires_grad=True)
    fused = layer(x)
    grads_fused = torch.autograd.grad(fused.square().sum(), [x, *layer.parameters()])
    seen = []
    handle = layer.pull_relu.register_forward_hook(lambda module, args, out: seen.append(out))
    hooked = layer(x)
    grads_hooked = torch.autograd.grad(hooked.square().sum(), [x, *layer.parameters()])
    handle.remove()
    assert len(seen) == 1 and fused.grad_fn.name() != hooked.grad_fn.name()  # two different graphs
    torch.testing.assert_close(fused, hooked, rtol=1e-12, atol=1e-12)
    for a, b in zip(grads_fused, grads_hooked, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_alpha_zero_is_relu_of_conv():
    layer = PushPull2d(3, 5, 3, padding=1, alpha=0.0)
    x = torch.rand(2, 3, 10, 10)
    assert torch.allclose(layer(x), F.relu(layer.push(x)))


def test_state_dict_names_match_authors_layout():
    assert list(PushPull2d(3, 16, 3).state_dict()) == ["push.weight"]
    assert list(PushPull2d(3, 16, 3, bias=True).state_dict()) == ["push.weight", "push.bias"]
    assert list(PushPull2d(3, 16, 3, trainable_alpha=True).state_dict()) == ["alpha", "push.weight"]


def test_learned_alpha_initialisation_and_clamp():
    torch.manual_seed(5)
    layer = PushPull2d(3, 16, 3, padding=1, trainable_alpha=True)
    r = 1 / math.sqrt(3 * 16)
    assert layer.alpha.shape == (1, 16, 1, 1)
    assert layer.alpha.min() >= 0.5 - r and layer.alpha.max() <= 0.5 + r
    with torch.no_grad():
        layer.alpha.fill_(-1.0)  # clamped at 0: no inhibition
    x = torch.rand(1, 3, 8, 8)
    assert torch.allclose(layer(x), F.relu(layer.push(x)))


def test_no_extra_parameters():
    conv, layer = nn.Conv2d(3, 16, 3), PushPull2d(3, 16, 3)
    assert sum(p.numel() for p in layer.parameters()) == sum(p.numel() for p in conv.parameters()) - 16  # no bias


# ----------------------------------------------------------------------------- no stale output
def _fresh_copy(layer: PushPull2d) -> PushPull2d:
    """A new layer built with the same settings and loaded with the same weights."""
    push = layer.push
    fresh = PushPull2d(layer.in_channels, layer.out_channels, push.kernel_size, push.stride, push.padding,
                       push.dilation, push.groups, push.bias is not None, scale=layer.scale,
                       trainable_alpha=layer.trainable_alpha, implementation=layer.implementation,
                       dtype=push.weight.dtype)
    if not layer.trainable_alpha:
        fresh.alpha = layer.alpha
    fresh.load_state_dict(layer.state_dict())
    return fresh


def _sgd_step(layer):
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.5)
    layer(torch.rand(2, 3, 10, 10, dtype=layer.push.weight.dtype)).square().sum().backward()
    optimizer.step()


def _replace_parameter(layer):
    layer.push.weight = nn.Parameter(torch.randn_like(layer.push.weight))


def _data_assignment(layer):
    layer.push.weight.data = torch.randn_like(layer.push.weight)


def _foreach(layer):
    torch._foreach_mul_([p.data for p in layer.parameters()], 3.0)


WEIGHT_CHANGES = {
    "optimizer step": _sgd_step,
    "load_state_dict": lambda layer: layer.load_state_dict(
        {k: torch.randn_like(v) for k, v in layer.state_dict().items()}),
    "in-place under no_grad": lambda layer: torch.no_grad()(lambda: layer.push.weight.mul_(-2.0))(),
    ".data in-place copy_": lambda layer: layer.push.weight.data.copy_(torch.randn_like(layer.push.weight)),
    ".data in-place mul_": lambda layer: layer.push.weight.data.mul_(0.5),
    ".data assignment": _data_assignment,
    "parameter replacement": _replace_parameter,
    "torch._foreach_ on .data": _foreach,
    ".double()": lambda layer: layer.double(),
    ".to(float64)": lambda layer: layer.to(torch.float64),
}


@pytest.mark.parametrize("change", list(WEIGHT_CHANGES))
@pytest.mark.parametrize("bias", [False, True])
def test_no_stale_output_after_any_weight_change(change, bias):
    """Whatever changes the weights, the next output equals a fresh layer's with the same weights
    (the issue's case: copying weights in with `p.data.copy_` after a forward pass under no_grad)."""
    torch.manual_seed(11)
    layer = PushPull2d(3, 4, 3, padding=1, bias=bias, alpha=0.7)
    x = torch.rand(2, 3, 10, 10)
    with torch.no_grad():
        before = layer(x)  # any caching would happen here
    WEIGHT_CHANGES[change](layer)
    x = x.to(layer.push.weight.dtype)
    with torch.no_grad():
        after = layer(x)
        expected = _fresh_copy(layer)(x)
        pull = layer.pull_weight
    assert not torch.allclose(after.double(), before.double(), atol=1e-6) or change.startswith(".")  # a real change
    torch.testing.assert_close(after, expected, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(pull, _fresh_copy(layer).pull_weight)
    assert relative_error(after, reference_of(layer, x)) < 1e-5


def test_half_precision_layer_runs_on_the_new_dtype():
    layer = PushPull2d(3, 4, 3, padding=1)
    with torch.no_grad():
        layer(torch.rand(1, 3, 8, 8))
        layer.half()
        assert layer.pull_weight.dtype == torch.float16 and layer.interp_h.dtype == torch.float16
        layer.bfloat16()
        out = layer(torch.rand(1, 3, 8, 8, dtype=torch.bfloat16))
    assert out.dtype == torch.bfloat16


def test_scale_change_follows_in_the_next_output():
    layer = PushPull2d(3, 4, 3, padding=1)
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        layer(x)
        layer.scale = 1.5
        assert layer.pull_weight.shape[-1] == 5
        assert torch.allclose(layer(x), reference_of(layer, x), atol=1e-6)
        layer.double()
        assert layer.pull_weight.dtype == torch.float64
        assert layer(x.double()).dtype == torch.float64


def test_responses_at_another_scale_leave_the_layer_unchanged():
    layer = PushPull2d(3, 4, 3, padding=1)
    x = torch.rand(1, 3, 12, 12)
    push, pull = layer.push_pull_responses(x, scale=1.5)
    assert layer.scale == 2.0 and layer.pull_kernel_size == (7, 7)
    twin = PushPull2d(3, 4, 3, padding=1, scale=1.5)
    twin.load_state_dict(layer.state_dict())
    torch.testing.assert_close(pull, twin.push_pull_responses(x).pull)


def test_training_gradients_flow_through_the_pull_branch():
    torch.manual_seed(6)
    x = torch.rand(2, 3, 10, 10)
    with_pull, without = PushPull2d(3, 4, 3, padding=1), PushPull2d(3, 4, 3, padding=1, alpha=0.0)
    without.load_state_dict(with_pull.state_dict())
    with_pull(x).sum().backward()
    without(x).sum().backward()
    assert not torch.allclose(with_pull.push.weight.grad, without.push.weight.grad)


# ----------------------------------------------------------------------------- 2024 variant
def test_pushpull_net_2024_unit():
    torch.manual_seed(7)
    layer = PushPullNet2d(3, 4, 3, padding=1, bias=True, alpha=0.8, avg_kernel_size=3)
    with torch.no_grad():
        layer.bias.uniform_(-1, 1)
    assert sorted(layer.state_dict()) == ["bias", "push.weight"]
    w = layer.push.weight
    pull_kernel = -w + w.amax(dim=(1, 2, 3), keepdim=True) + w.amin(dim=(1, 2, 3), keepdim=True)
    assert torch.allclose(pushpull_net_pull_kernel(w), pull_kernel)
    assert layer.pull_weight.shape == w.shape
    x = torch.rand(2, 3, 12, 12)
    pull = F.avg_pool2d(F.conv2d(x, pull_kernel, padding=1), 3, 1, 1, count_include_pad=False)
    expected = F.relu(F.conv2d(x, w, padding=1)) - 0.8 * F.relu(pull) + layer.bias.view(1, -1, 1, 1)
    assert torch.allclose(layer(x), expected, atol=1e-6)
    push, pull = layer.push_pull_responses(x)
    assert torch.allclose(layer.output_from_responses(push, pull), expected, atol=1e-6)


def test_factory_builds_each_variant_and_refuses_foreign_options():
    assert type(create_pushpull(3, 4, 3, variant="2020")) is PushPull2d
    assert type(create_pushpull(3, 4, 3, variant="2024", avg_kernel_size=5)) is PushPullNet2d
    with pytest.raises(TypeError, match="PushPullNet2d"):
        create_pushpull(3, 4, 3, variant="2024", scale=1.5)
    with pytest.raises(ValueError, match="variant"):
        create_pushpull(3, 4, 3, variant="2019")


@pytest.mark.parametrize("kwargs,message", [({"avg_kernel_size": 4}, "avg_kernel_size"), ({"alpha": -1}, "alpha")])
def test_pushpull_net_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        PushPullNet2d(3, 4, 3, **kwargs)


# ----------------------------------------------------------------------------- precision, compile
def test_autocast_bfloat16_cpu():
    layer = PushPull2d(3, 8, 3, padding=1)
    x = torch.rand(2, 3, 16, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x)
    assert out.dtype == torch.bfloat16
    assert relative_error(out.float(), layer(x)) < 0.05


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.gpu
def test_cuda_float16_autocast_matches_float32():
    layer = PushPull2d(3, 16, 3, padding=1).cuda()
    x = torch.rand(8, 3, 32, 32, device="cuda")
    with torch.autocast("cuda", dtype=torch.float16):
        out = layer(x)
    assert relative_error(out.float(), layer(x)) < 1e-2


def test_torch_compile_smoke():
    pytest.importorskip("torch._inductor")
    layer = PushPull2d(3, 8, 3, padding=1)
    x = torch.rand(2, 3, 16, 16)
    compiled = torch.compile(layer, backend="eager", fullgraph=True)  # graph capture, no C++ build
    assert torch.allclose(compiled(x), layer(x), atol=1e-6)
    compiled(x).sum().backward()
    assert layer.push.weight.grad is not None


@pytest.mark.slow
def test_torch_compile_inductor_matches():
    layer = PushPull2d(3, 8, 3, padding=1)
    x = torch.rand(2, 3, 16, 16)
    compiled = torch.compile(layer)
    assert torch.allclose(compiled(x), layer(x), atol=1e-5)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,message", [
    ({"alpha": -0.1}, "alpha"),
    ({"alpha": float("nan")}, "alpha"),
    ({"alpha": float("inf")}, "alpha"),
    ({"scale": 0.5}, "scale"),
    ({"scale": float("inf")}, "scale"),
    ({"kernel_size": 4, "scale": 2.0}, "even push kernel"),
    ({"kernel_size": (3, 4), "scale": 2.0}, "even push kernel"),
    ({"groups": 2}, "divisible by groups"),
    ({"scale": 1e6}, "largest built"),
    ({"in_channels": 2.5}, "in_channels"),
    ({"implementation": "fft"}, "implementation"),
    ({"kernel_size": 0}, "kernel_size"),
    ({"padding": -1}, "padding"),
])
def test_bad_construction_arguments(kwargs, message):
    args = {"in_channels": 3, "out_channels": 8, "kernel_size": 3} | kwargs
    with pytest.raises((ValueError, TypeError), match=message):
        PushPull2d(**args)


def test_even_kernel_allowed_with_scale_one():
    layer = PushPull2d(3, 4, 4, scale=1.0)
    assert layer(torch.rand(1, 3, 9, 9)).shape == (1, 4, 6, 6)


@pytest.mark.parametrize("x,message", [
    (torch.rand(3, 16, 16), r"shape \(N, C, H, W\)"),
    (torch.rand(1, 1, 3, 16, 16), r"shape \(N, C, H, W\)"),
    (torch.rand(2, 1, 16, 16), "expects in_channels=3"),
    (torch.randint(0, 255, (2, 3, 16, 16), dtype=torch.uint8), "floating-point"),
])
def test_bad_input(x, message):
    with pytest.raises((ValueError, TypeError), match=message):
        PushPull2d(3, 8, 3)(x)


@pytest.mark.parametrize("value", [-1.0, float("nan"), torch.tensor(float("nan")), torch.tensor([1.0, -1.0]),
                                   torch.full((1, 8, 1, 1), float("inf")), "1"])
def test_alpha_set_to_invalid_value_is_refused_at_once(value):
    layer = PushPull2d(3, 8, 3)
    with pytest.raises((ValueError, TypeError), match="alpha"):
        layer.alpha = value
    assert layer.alpha == 1.0
    with pytest.raises(ValueError, match="scale"):
        layer.scale = 0.9


def test_alpha_accepts_numbers_and_tensors():
    layer = PushPull2d(3, 8, 3)
    layer.alpha = torch.tensor(0.5)
    assert layer.alpha == 0.5 and isinstance(layer.alpha, float)
    layer.alpha = torch.full((1, 8, 1, 1), 0.25)
    x = torch.rand(1, 3, 8, 8)
    torch.testing.assert_close(layer(x), reference_of(layer, x))
    assert "alpha=per-channel tensor" in repr(layer)
    learned = PushPull2d(3, 8, 3, trainable_alpha=True)
    with pytest.raises(ValueError, match="learns alpha"):
        learned.alpha = 0.5


def test_no_nan_for_constant_or_zero_input():
    layer = PushPull2d(3, 8, 3, padding=1, trainable_alpha=True)
    for x in (torch.zeros(1, 3, 8, 8), torch.ones(1, 3, 8, 8)):
        assert torch.isfinite(layer(x)).all()


def test_functional_forms_check_input_against_weight():
    w = torch.randn(8, 3, 3, 3)
    with pytest.raises(ValueError, match="expects in_channels=3"):
        push_pull2d(torch.rand(1, 4, 8, 8), w)
    with pytest.raises(ValueError, match="expects in_channels=3"):
        push_pull2d_reference(torch.rand(1, 4, 8, 8), w)
    with pytest.raises(ValueError, match=r"weight must have shape"):
        push_pull2d(torch.rand(1, 3, 8, 8), torch.randn(8, 3, 3))
    with pytest.raises(ValueError, match="implementation"):
        push_pull2d(torch.rand(1, 3, 8, 8), w, implementation="fast")


# ----------------------------------------------------------------------------- the route rule
def test_route_rule_agrees_with_the_measured_layers():
    """docs/benchmarks.md ("Which route"), channels_last: direct wins for the CIFAR (3x3) and LeNet (5x5)
    first layers and a 16->16 3x3 layer, blur for a ResNet stem (7x7 stride 2, pull 15x15) and a 64->64
    3x3 layer; in NCHW direct; h = 1 needs no second convolution."""
    for shape, pull in (((16, 3, 3, 3), (7, 7)), ((6, 1, 5, 5), (11, 11)), ((16, 16, 3, 3), (7, 7))):
        assert select_route(shape, pull, channels_last=True) == "direct"
    assert select_route((64, 3, 7, 7), (15, 15), channels_last=True) == "blur"
    assert select_route((64, 64, 3, 3), (7, 7), channels_last=True) == "blur"
    assert select_route((64, 3, 7, 7), (15, 15)) == "direct"
    assert select_route((16, 3, 3, 3), (3, 3)) == "same"
    assert select_route((16, 3, 3, 3), (3, 3), implementation="blur") == "same"
    assert select_route((16, 3, 3, 3), (3, 3), implementation="reference") == "reference"
    assert select_route((64, 3, 7, 7), (15, 15), implementation="direct") == "direct"
    with pytest.raises(ValueError, match="implementation"):
        select_route((16, 3, 3, 3), (7, 7), implementation="fft")


def test_stem_through_auto_route_matches_reference():
    torch.manual_seed(12)
    layer = PushPull2d(3, 64, 7, stride=2, padding=3, alpha=0.6)
    x = torch.rand(2, 3, 40, 40).contiguous(memory_format=torch.channels_last)
    assert select_route(tuple(layer.push.weight.shape), layer.pull_kernel_size, channels_last=True) == "blur"
    calls = []
    handle = layer.push.register_forward_hook(lambda *args: calls.append(1))  # not called: the functional runs
    assert relative_error(layer(x), reference_of(layer, x)) < 1e-5
    handle.remove()
    assert not calls


def test_module_forward_is_the_functional_form():
    torch.manual_seed(13)
    layer = PushPull2d(3, 5, 3, padding=1, bias=True, alpha=0.4, scale=1.5)
    x = torch.rand(2, 3, 9, 9)
    functional = push_pull2d(x, layer.push.weight, layer.push.bias, 0.4, 1.5, padding=1)
    torch.testing.assert_close(layer(x), functional)
