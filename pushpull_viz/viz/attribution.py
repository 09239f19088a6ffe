"""Attribution maps with Captum: which pixels does a plain or a push-pull model use?

One call shape for every method, like Captum's own::

    attribute(model, inputs, target=None, method="integrated_gradients", layer=None, **kwargs)

with ``method`` one of :data:`METHODS`:

``"integrated_gradients"``
    Integrated Gradients (Sundararajan et al. 2017) from a black image (zeros) by default,
    ``n_steps=50`` (Gauss-Legendre). Override with ``baselines=`` and ``n_steps=``.
``"saliency"``
    The raw, *signed* input gradient (``abs=False``; pass ``abs=True`` for Captum's ``|grad|``).
``"smoothgrad"``
    Saliency averaged over noisy copies of the input (Smilkov et al. 2017) through Captum's
    ``NoiseTunnel``: ``nt_samples=25`` copies with Gaussian noise of ``stdevs=0.15`` (in input
    units, i.e. 15 % of the [0, 1] pixel range, inside the paper's recommended 10-20 %),
    drawn from a generator seeded by ``seed=0``, so the result is reproducible. The global
    random state is left as it was.
``"gradcam"``
    Grad-CAM (Selvaraju et al. 2017) on ``layer`` (default: the model's last convolution, see
    :func:`gradcam_layer` for why not the push-pull first layer), with the ReLU of the paper
    (``relu_attributions=True``), up-sampled bilinearly to the input size.
``"guided_gradcam"``
    Guided Grad-CAM: Grad-CAM on ``layer`` times guided backpropagation.

The model is evaluated in eval mode (each module's previous mode is restored afterwards), on
a detached clone of the input, with ``torch.autograd.grad`` only: parameters and their ``.grad``
are not touched and Captum removes its hooks before returning.

:func:`to_heatmap` reduces attributions to one map per image, :func:`plot_attributions` draws
models x conditions x methods with **one colour scale per method column** (Captum's
``visualize_image_attr`` scales each map on its own, which would hide that one model's
attributions are weaker than another's), and :func:`attribution_summary` gives the numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from ..checks import as_images
from ..layers import PushPullLayer, named_first_conv, named_last_conv

__all__ = [
    "METHODS",
    "METHOD_TITLES",
    "attribute",
    "attribution_summary",
    "attribution_overlap",
    "first_conv_layer",
    "gradcam_layer",
    "plot_attributions",
    "to_heatmap",
]

METHODS: tuple[str, ...] = ("integrated_gradients", "saliency", "smoothgrad", "gradcam", "guided_gradcam")
METHOD_TITLES: dict[str, str] = {
    "integrated_gradients": "Integrated Gradients",
    "saliency": "Saliency (gradient)",
    "smoothgrad": "SmoothGrad",
    "gradcam": "Grad-CAM",
    "guided_gradcam": "Guided Grad-CAM",
}
SIGNS: tuple[str, ...] = ("absolute", "positive", "all")

#: SmoothGrad defaults: noisy copies, noise standard deviation in input units ([0, 1] images), seed.
SMOOTHGRAD_SAMPLES = 25
SMOOTHGRAD_STDEV = 0.15
SMOOTHGRAD_SEED = 0
#: Integrated Gradients steps (Captum's default, Gauss-Legendre nodes).
IG_STEPS = 50

# Messages autograd gives when the output does not depend on what we differentiate by.
_UNUSED_GRAPH = ("appears to not have been used in the graph", "does not require grad and does not have a grad_fn")


# ----------------------------------------------------------------------------------- helpers
def _captum():
    try:
        import captum.attr as attr
    except ImportError as error:  # pragma: no cover - captum is in the dev / notebooks extras
        raise ImportError("attribution maps need Captum: pip install 'captum>=0.7' "
                          "(or pip install 'pushpull-viz[notebooks]')") from error
    return attr


def first_conv_layer(model: nn.Module) -> tuple[str, nn.Module]:
    """The model's first convolution: the first :class:`PushPull2d` or ``nn.Conv2d`` in
    ``model.named_modules()`` order (a push-pull layer comes before its inner ``.push`` conv).

    Args:
        model: any ``nn.Module``.

    Returns:
        ``(dotted name, module)``.

    Raises:
        ValueError: the model has no convolution.

    Example:
        >>> from pushpull_viz.models import build_model
        >>> name, layer = first_conv_layer(build_model("lenet-a", pushpull=True))
        >>> name, type(layer).__name__
        ('conv1', 'PushPull2d')
    """
    try:
        return named_first_conv(model)
    except ValueError as error:
        raise ValueError(f"{error}; pass layer= (a module of the model or its dotted name) for Grad-CAM") from None


def gradcam_layer(model: nn.Module) -> tuple[str, nn.Module]:
    """The layer Grad-CAM uses unless told otherwise: the model's last convolution
    (:func:`~pushpull_viz.layers.named_last_conv`).

    Grad-CAM weighs a layer's activations by their pooled gradients and keeps the positive part.
    On the last convolution, the classic choice, its maps mean the same thing for a plain and a
    push-pull model. On a push-pull *first* layer they do not: its output is mostly
    ``-alpha * pull`` (negative), so the ReLU of Grad-CAM blanks most of the map, a property of
    the method, not a finding about the model.

    Example:
        >>> from pushpull_viz.models import build_model
        >>> gradcam_layer(build_model("lenet-a", pushpull=True))[0]
        'conv2'
    """
    return named_last_conv(model)


def _resolve_layer(model: nn.Module, layer: nn.Module | str | None) -> tuple[str, nn.Module]:
    if layer is None:
        return gradcam_layer(model)
    if isinstance(layer, str):
        try:
            return layer, model.get_submodule(layer)
        except AttributeError:
            convs = [n for n, m in model.named_modules() if isinstance(m, (PushPullLayer, nn.Conv2d))][:8]
            raise ValueError(f"layer={layer!r} is not a module of {type(model).__name__}; pass a dotted "
                             f"module name such as {', '.join(map(repr, convs)) or 'conv1'}") from None
    if isinstance(layer, nn.Module):
        for name, module in model.named_modules():
            if module is layer:
                return name, module
        raise ValueError(f"layer ({type(layer).__name__}) is not a submodule of the model; pass one of "
                         "model's modules, or its dotted name")
    raise TypeError(f"layer must be None, an nn.Module of the model or a dotted module name, "
                    f"got {type(layer).__name__}")


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")
    return method


def _model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def _expected_channels(model: nn.Module) -> int | None:
    try:
        _, conv = first_conv_layer(model)
    except ValueError:
        return None
    return conv.in_channels


def _prepare_inputs(model: nn.Module, inputs: Tensor, name: str = "inputs") -> Tensor:
    """A detached float (N, C, H, W) copy on the model's device, checked against the model."""
    if isinstance(inputs, Tensor) and inputs.dim() != 4:
        hint = " (add the batch dimension: x.unsqueeze(0))" if inputs.dim() == 3 else ""
        raise ValueError(f"{name} must have shape (N, C, H, W), got shape {tuple(inputs.shape)}{hint}")
    images, _ = as_images(inputs, name, channels=_expected_channels(model), check_range=False,
                          consumer="the model's first convolution")
    device, dtype = _model_device_dtype(model)
    return images.to(device=device, dtype=dtype).clone()


class _EvalMode:
    """Eval mode inside the block; each module's previous ``training`` flag restored after."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.modes: list[tuple[nn.Module, bool]] = []

    def __enter__(self) -> nn.Module:
        self.modes = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        return self.model

    def __exit__(self, *exc: object) -> None:
        for module, mode in self.modes:
            module.training = mode


def _logits(model: nn.Module, inputs: Tensor) -> Tensor:
    with torch.no_grad(), _EvalMode(model):
        out = model(inputs)
    if not isinstance(out, Tensor) or out.dim() != 2:
        raise ValueError(f"the model must return logits of shape (N, num_classes), got "
                         f"{tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__}")
    return out


def _resolve_target(target: int | Sequence[int] | Tensor | None, logits: Tensor) -> Tensor:
    n, classes = logits.shape
    if target is None:
        return logits.argmax(dim=1)
    if isinstance(target, bool):
        raise TypeError(f"target must be None, an int or a sequence/tensor of {n} ints, got {target!r}")
    if isinstance(target, int):
        target = torch.full((n,), target, dtype=torch.long)
    else:
        target = torch.as_tensor(target)
        if target.is_floating_point() or target.dtype == torch.bool:
            raise TypeError(f"target must hold integer class indices, got dtype {target.dtype}")
        if target.dim() == 0:
            target = target.expand(n)
        if target.shape != (n,):
            raise ValueError(f"target must be None, an int or {n} class indices (one per input), "
                             f"got shape {tuple(target.shape)}")
    target = target.long().to(logits.device)
    bad = (target < 0) | (target >= classes)
    if bad.any():
        raise ValueError(f"target {target[bad][0].item()} is out of range: the model has {classes} classes "
                         f"(valid targets 0..{classes - 1})")
    return target


# ----------------------------------------------------------------------------------- attribute
def attribute(
    model: nn.Module,
    inputs: Tensor,
    target: int | Sequence[int] | Tensor | None = None,
    method: str = "integrated_gradients",
    layer: nn.Module | str | None = None,
    **kwargs: Any,
) -> Tensor:
    """Attributions of ``model``'s ``target`` logit to the pixels of ``inputs``, by Captum.

    Args:
        model: an image classifier returning logits ``(N, num_classes)`` (the project's models
            take images in [0, 1] and normalise inside). Evaluated in eval mode; each module's
            mode is restored afterwards; parameters and their ``.grad`` are left untouched.
        inputs: images ``(N, C, H, W)``, float in [0, 1] or uint8 (divided by 255); ``C`` must
            match the model's first convolution. Not modified: a detached clone is used.
        target: class to explain: ``None`` (default) the model's predicted class (argmax of the
            logits) per image, an int for all images, or ``N`` ints.
        method: one of :data:`METHODS` (see the module docstring for each method's defaults).
        layer: for ``"gradcam"`` / ``"guided_gradcam"``: a module of ``model`` or its dotted
            name (``"conv1"``, ``"layer1.0.conv2"``); default the last convolution
            (:func:`gradcam_layer`). Ignored by the pixel methods.
        **kwargs: passed to the Captum method's ``attribute`` and overriding our defaults, e.g.
            ``baselines`` (IG, default zeros: a black image), ``n_steps`` (IG, default 50),
            ``internal_batch_size`` (IG: bound the memory of ``N * n_steps`` forward passes),
            ``nt_samples`` / ``stdevs`` (SmoothGrad, default 25 / 0.15), ``abs`` (saliency and
            SmoothGrad, default ``False``: signed gradients), ``relu_attributions`` (Grad-CAM,
            default ``True``). Extra keys: ``seed`` (SmoothGrad noise, default 0),
            ``interpolate_mode`` (Grad-CAM up-sampling, default ``"bilinear"``) and ``ig_method``
            (Captum IG's own ``method``, whose name ``method`` is taken here: default
            ``"gausslegendre"``, or e.g. ``"riemann_trapezoid"``).

    Returns:
        Detached attributions on the model's device, in the model's dtype. If the target logit
        does not depend on the input (or on ``layer``) at all, every attribution is zero and
        zeros are returned; a ``layer`` that the forward pass never runs raises ``ValueError``.

    Shape:
        - inputs: ``(N, C, H, W)``
        - output: ``(N, C, H, W)`` for the pixel methods (``"integrated_gradients"``,
          ``"saliency"``, ``"smoothgrad"``, ``"guided_gradcam"``); ``(N, 1, H, W)`` for
          ``"gradcam"`` (the layer map summed over channels and up-sampled to ``H x W``).

    Example:
        >>> from pushpull_viz.models import build_model
        >>> _ = torch.manual_seed(0)
        >>> model, x = build_model("lenet-a", pushpull=True), torch.rand(2, 1, 28, 28)
        >>> attribute(model, x, method="integrated_gradients", n_steps=8).shape
        torch.Size([2, 1, 28, 28])
        >>> attribute(model, x, target=3, method="gradcam").shape  # on the PushPull2d layer
        torch.Size([2, 1, 28, 28])
        >>> a, b = (attribute(model, x, method="smoothgrad", nt_samples=4, seed=1) for _ in range(2))
        >>> torch.equal(a, b)
        True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    _check_method(method)
    if kwargs.pop("return_convergence_delta", False):
        raise ValueError("return_convergence_delta is not supported: attribute() returns only the attributions; "
                         "check completeness with attribution.sum() against the logit difference")
    x = _prepare_inputs(model, inputs)
    target_idx = _resolve_target(target, _logits(model, x))
    layer_name, layer_module = _resolve_layer(model, layer) if method in ("gradcam", "guided_gradcam") else ("", None)
    seed = kwargs.pop("seed", SMOOTHGRAD_SEED)
    interpolate_mode = kwargs.pop("interpolate_mode", "bilinear")
    ig_method = kwargs.pop("ig_method", None)
    attr = _captum()
    x.requires_grad_(True)
    try:
        with _EvalMode(model), torch.enable_grad():
            if method == "integrated_gradients":
                kwargs.setdefault("baselines", torch.zeros_like(x))
                kwargs.setdefault("n_steps", IG_STEPS)
                if ig_method is not None:
                    kwargs["method"] = ig_method
                out = attr.IntegratedGradients(model).attribute(x, target=target_idx, **kwargs)
            elif method == "saliency":
                kwargs.setdefault("abs", False)
                out = attr.Saliency(model).attribute(x, target=target_idx, **kwargs)
            elif method == "smoothgrad":
                kwargs.setdefault("nt_samples", SMOOTHGRAD_SAMPLES)
                kwargs.setdefault("stdevs", SMOOTHGRAD_STDEV)
                kwargs.setdefault("abs", False)
                devices = [x.device.index or 0] if x.device.type == "cuda" else []
                with torch.random.fork_rng(devices=devices):  # seeded noise, global state restored
                    torch.manual_seed(seed)
                    out = attr.NoiseTunnel(attr.Saliency(model)).attribute(
                        x, nt_type="smoothgrad", target=target_idx, **kwargs)
            elif method == "gradcam":
                kwargs.setdefault("relu_attributions", True)
                cam = attr.LayerGradCam(model, layer_module).attribute(x, target=target_idx, **kwargs)
                if cam.dim() != 4:
                    raise ValueError(f"Grad-CAM needs a layer with (N, C, h, w) output; layer "
                                     f"{layer_name!r} gave shape {tuple(cam.shape)}")
                out = attr.LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode=interpolate_mode)
            else:  # guided_gradcam
                with warnings.catch_warnings():  # Captum announces its (removed-afterwards) ReLU hooks
                    warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")
                    out = attr.GuidedGradCam(model, layer_module).attribute(x, target=target_idx, **kwargs)
    except AssertionError as error:  # Captum's message when the hooked layer never ran
        if "did not obtain any outputs" not in str(error):
            raise
        raise ValueError(f"layer {layer_name!r} was not run in the model's forward pass, so it has no "
                         "Grad-CAM; pass layer= a module the forward pass uses") from None
    except RuntimeError as error:
        if not any(text in str(error) for text in _UNUSED_GRAPH):
            raise
        # the target logit does not depend on the input (or on the layer): all attributions are 0
        out = torch.zeros((x.shape[0], 1, *x.shape[-2:]) if method == "gradcam" else x.shape,
                          dtype=x.dtype, device=x.device)
    return out.detach()


# ----------------------------------------------------------------------------------- reduction
def to_heatmap(attr: Tensor, sign: Literal["absolute", "positive", "all"] = "absolute",
               reduce: Literal["sum", "max"] = "sum") -> Tensor:
    """One map per image from ``(N, C, H, W)`` attributions, for display and summaries.

    Args:
        attr: attributions from :func:`attribute`.
        sign: ``"absolute"`` magnitude, ``"positive"`` evidence *for* the target only (negative
            parts set to 0), ``"all"`` signed (draw it with a diverging colour map).
        reduce: how channels are combined. ``"sum"`` (default, as Captum's visualisation does):
            sum the signed channel values first, so a pixel's map value is its total effect,
            then apply ``sign`` (``|sum|``, ``max(sum, 0)`` or ``sum``). ``"max"``: the
            channel of largest value after ``sign`` (``max_c |a_c|``, ``max_c max(a_c, 0)``;
            for ``"all"`` the signed value of the channel of largest magnitude), as in
            Simonyan et al.'s saliency maps. With one channel both are the same.

    Returns:
        A detached tensor in ``attr``'s dtype; non-negative unless ``sign="all"``.

    Shape:
        - attr: ``(N, C, H, W)``; output: ``(N, H, W)``.

    Example:
        >>> a = torch.tensor([[[[1.0, -2.0]], [[-3.0, 1.0]]]])  # N=1, C=2, H=1, W=2
        >>> to_heatmap(a).tolist(), to_heatmap(a, "positive").tolist(), to_heatmap(a, reduce="max").tolist()
        ([[[2.0, 1.0]]], [[[0.0, 0.0]]], [[[3.0, 2.0]]])
    """
    if not isinstance(attr, Tensor) or attr.dim() != 4:
        got = tuple(attr.shape) if isinstance(attr, Tensor) else type(attr).__name__
        raise ValueError(f"attr must be a tensor of shape (N, C, H, W), got {got}")
    if sign not in SIGNS:
        raise ValueError(f"sign must be one of {', '.join(SIGNS)}, got {sign!r}")
    if reduce not in ("sum", "max"):
        raise ValueError(f"reduce must be 'sum' or 'max', got {reduce!r}")
    attr = attr.detach()
    if reduce == "sum":
        total = attr.sum(dim=1)
        return total.abs() if sign == "absolute" else total.clamp(min=0) if sign == "positive" else total
    if sign == "absolute":
        return attr.abs().amax(dim=1)
    if sign == "positive":
        return attr.clamp(min=0).amax(dim=1)
    index = attr.abs().argmax(dim=1, keepdim=True)
    return attr.gather(1, index).squeeze(1)


# ----------------------------------------------------------------------------------- numbers
def attribution_summary(attrs: Tensor | Mapping[str, Tensor], top_percent: float = 10.0,
                        sign: Literal["absolute", "positive"] = "absolute"):
    """Numbers that compare attribution maps, one row per map and image (a pure function).

    Each attribution is reduced by :func:`to_heatmap` (channels summed, then ``sign``) to a
    non-negative map ``m``. Columns:

    - ``total``: ``sum(m)``, the total attribution (absolute by default). It is in logit units,
      so it compares models only as far as their logits are on a similar scale; for IG it is
      at least ``|logit(x) - logit(baseline)|``.
    - ``signed_sum``: the sum of the raw attributions (for IG: ``logit(x) - logit(baseline)``
      by completeness).
    - ``top{k}%_mass``: the fraction of ``total`` in the ``top_percent`` % highest pixels
      (``ceil`` of the pixel count); 1 = concentrated, ``top_percent / 100`` = spread evenly.
      Scale-free, so it compares models directly. NaN for an all-zero map.
    - ``all_zero``: whether the map is exactly zero.

    Args:
        attrs: one attribution tensor or ``{name: attributions}`` (e.g. ``"plain/clean"``).
        top_percent: the share of pixels, in (0, 100].
        sign: ``"absolute"`` or ``"positive"`` (see :func:`to_heatmap`).

    Returns:
        A ``pandas.DataFrame`` with columns ``name, image, total, signed_sum, top{k}%_mass,
        all_zero``.

    Shape:
        - each attribution: ``(N, C, H, W)`` (``C`` may be 1, e.g. Grad-CAM); ``N`` rows each.

    Example:
        >>> a = torch.zeros(1, 1, 10, 10); a[0, 0, 0, :5] = 1.0; a[0, 0, 1, :] = 0.1
        >>> row = attribution_summary({"demo": a}).iloc[0]
        >>> round(float(row["total"]), 3), round(float(row["top10%_mass"]), 3), bool(row["all_zero"])  # 5.5 of 6
        (6.0, 0.917, False)
    """
    import pandas as pd

    if isinstance(attrs, Tensor):
        attrs = {"attribution": attrs}
    if not isinstance(attrs, Mapping) or not attrs:
        raise ValueError("attrs must be a tensor or a non-empty {name: attributions (N, C, H, W)} dict")
    if sign not in ("absolute", "positive"):
        raise ValueError(f"sign must be 'absolute' or 'positive' for a summary, got {sign!r}")
    if not (isinstance(top_percent, (int, float)) and not isinstance(top_percent, bool) and 0 < top_percent <= 100):
        raise ValueError(f"top_percent must be a number in (0, 100], got {top_percent!r}")
    column = f"top{top_percent:g}%_mass"
    rows = []
    for name, attr in attrs.items():
        maps = to_heatmap(attr, sign).flatten(1).double()
        k = max(1, math.ceil(top_percent / 100 * maps.shape[1]))
        top = maps.topk(k, dim=1).values.sum(dim=1)
        for i in range(maps.shape[0]):
            total = maps[i].sum().item()
            rows.append({"name": name, "image": i, "total": total, "signed_sum": attr[i].double().sum().item(),
                         column: top[i].item() / total if total > 0 else float("nan"), "all_zero": total == 0})
    return pd.DataFrame(rows, columns=["name", "image", "total", "signed_sum", column, "all_zero"])


def attribution_overlap(first: Tensor, second: Tensor, top_percent: float = 10.0,
                        sign: Literal["absolute", "positive"] = "absolute") -> Tensor:
    """Per image, how much two attribution maps agree on *where*: the intersection over union of their
    ``top_percent`` % highest pixels (after :func:`to_heatmap`).

    1 means the same pixels, 0 disjoint ones; two independent random maps give about
    ``top_percent / (200 - top_percent)`` (0.053 for 10 %). For "does the model look elsewhere under
    noise?", pass the maps of the clean and of the corrupted images of one model.

    Shape:
        - first, second: ``(N, C, H, W)`` (the same ``N``, ``H``, ``W``); output ``(N,)``.

    Example:
        >>> a = torch.zeros(1, 1, 10, 10); a[0, 0, 0] = 1.0
        >>> b = a.clone(); b[0, 0, 0, :5] = 0.0; b[0, 0, 1, :5] = 1.0
        >>> attribution_overlap(a, a).item(), round(attribution_overlap(a, b).item(), 3)
        (1.0, 0.333)
    """
    if not (isinstance(top_percent, (int, float)) and not isinstance(top_percent, bool) and 0 < top_percent <= 100):
        raise ValueError(f"top_percent must be a number in (0, 100], got {top_percent!r}")
    a, b = to_heatmap(first, sign).flatten(1), to_heatmap(second, sign).flatten(1)
    if a.shape != b.shape:
        raise ValueError(f"the two attributions must have the same images and size, got {tuple(first.shape)} and "
                         f"{tuple(second.shape)}")
    k = max(1, math.ceil(top_percent / 100 * a.shape[1]))
    top_a = torch.zeros_like(a, dtype=torch.bool).scatter_(1, a.topk(k, dim=1).indices, True)
    top_b = torch.zeros_like(b, dtype=torch.bool).scatter_(1, b.topk(k, dim=1).indices, True)
    return (top_a & top_b).sum(1).double() / (top_a | top_b).sum(1).double()


# ----------------------------------------------------------------------------------- figure
def _as_image(image: Tensor, key: str) -> Tensor:
    """A float (1, C, H, W) image from (C, H, W) / (1, C, H, W), uint8 or float
    (:func:`~pushpull_viz.checks.as_images`)."""
    return as_images(image, f"images[{key!r}]", single=True, check_range=False)[0].float()


def _class_name(index: int, labels: Sequence[str] | None) -> str:
    return str(labels[index]) if labels is not None and index < len(labels) else f"class {index}"


def plot_attributions(
    models: Mapping[str, nn.Module],
    images: Mapping[str, Tensor],
    target: int | None = None,
    methods: Sequence[str] = ("integrated_gradients", "smoothgrad", "gradcam"),
    labels: Sequence[str] | None = None,
    *,
    sign: Literal["absolute", "positive", "all"] = "absolute",
    saturate_percent: float = 0.5,
    method_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    cell_size: float = 2.1,
):
    """Attribution maps of several models on several versions of one image, comparable.

    Rows are (model, input condition) pairs, models outer, e.g. plain/clean, plain/noisy,
    PP/clean, PP/noisy; columns are the input then one map per method (:func:`to_heatmap`
    of :func:`attribute`). **Every map in a method column shares one colour scale** and one
    colourbar, so a weaker or more scattered attribution of one model shows as such.

    Args:
        models: ``{row name: model}``, all taking the same kind of image; non-empty.
        images: ``{condition: image}``, each ``(C, H, W)`` or ``(1, C, H, W)``, 1 or 3 channels,
            uint8 or float in [0, 1]; non-empty.
        target: class to explain in every row; ``None`` (default) each row's predicted class.
        methods: column methods, from :data:`METHODS`.
        labels: class names for the titles (e.g. ``CIFAR10_CLASSES``); default ``"class i"``.
        sign: heat-map sign (:func:`to_heatmap`): ``"absolute"`` / ``"positive"`` are drawn
            from 0 to the column maximum, ``"all"`` symmetric about 0 in a diverging map.
        saturate_percent: the top ``saturate_percent`` % of a column's values (all its maps
            pooled) saturate the colour scale, so one hot pixel does not make everything
            else black; 0 uses the column maximum. An all-zero column gets a tiny range.
        method_kwargs: extra keyword arguments per method for :func:`attribute`, e.g.
            ``{"integrated_gradients": {"n_steps": 100}}``.
        cell_size: inches per panel.

    Returns:
        A matplotlib ``Figure``; each map is an ``AxesImage`` whose ``get_clim()`` is the same
        throughout its column. Titles name model, condition and predicted class with its
        softmax probability; each map's title gives its total (``Σ|a|`` for ``sign="absolute"``,
        the ``total`` of :func:`attribution_summary`), or says "all zero".

    Shape:
        - each image: ``(C, H, W)`` or ``(1, C, H, W)``; figure grid
          ``(len(models) * len(images)) x (1 + len(methods))``.

    Example:
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> from pushpull_viz.models import build_model
        >>> _ = torch.manual_seed(0)
        >>> models = {"plain": build_model("lenet-a"), "PP": build_model("lenet-a", pushpull=True)}
        >>> x = torch.rand(1, 28, 28)
        >>> fig = plot_attributions(models, {"clean": x, "noisy": (x + 0.3 * torch.randn_like(x)).clamp(0, 1)},
        ...                         methods=("saliency", "gradcam"))
        >>> len(fig.axes)  # 4 rows x 3 columns + 2 colourbars
        14
        >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
        raise TypeError(f"target must be None (each row's predicted class) or one int class index, got {target!r}")
    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must be a non-empty {name: model} dict")
    if not isinstance(images, Mapping) or not images:
        raise ValueError("images must be a non-empty {condition: image (C, H, W)} dict")
    methods = tuple(methods)
    if not methods:
        raise ValueError(f"methods must name at least one of {', '.join(METHODS)}")
    for method in methods:
        _check_method(method)
    if sign not in SIGNS:
        raise ValueError(f"sign must be one of {', '.join(SIGNS)}, got {sign!r}")
    if not 0 <= saturate_percent < 100:
        raise ValueError(f"saturate_percent must be in [0, 100), got {saturate_percent!r}")
    method_kwargs = dict(method_kwargs or {})
    pictures = {key: _as_image(image, key) for key, image in images.items()}

    rows = []  # (model name, condition, picture, heat maps per method, predicted class, prob, target)
    for model_name, model in models.items():
        for condition, picture in pictures.items():
            try:
                x = _prepare_inputs(model, picture, f"images[{condition!r}]")
            except ValueError as error:
                raise ValueError(f"model {model_name!r}: {error}") from None
            probs = _logits(model, x).softmax(dim=1)[0]
            predicted = int(probs.argmax())
            explained = predicted if target is None else int(_resolve_target(target, probs[None])[0])
            maps = [to_heatmap(attribute(model, x, explained, method, **method_kwargs.get(method, {})), sign)[0]
                    .float().cpu() for method in methods]
            rows.append((model_name, condition, picture[0], maps, predicted, float(probs[predicted]), explained))

    columns = 1 + len(methods)
    fig, axes = plt.subplots(len(rows), columns, figsize=(cell_size * columns, cell_size * len(rows) + 1.3),
                             squeeze=False, layout="constrained")
    for i, (model_name, condition, picture, _maps, predicted, prob, explained) in enumerate(rows):
        shown = picture.permute(1, 2, 0).clamp(0, 1).numpy()
        ax = axes[i, 0]
        ax.imshow(shown[..., 0] if shown.shape[-1] == 1 else shown, cmap="gray", vmin=0, vmax=1)
        title = f"{model_name} | {condition}\npred {_class_name(predicted, labels)} (p={prob:.2f})"
        if explained != predicted:
            title += f"\nexplaining {_class_name(explained, labels)}"
        ax.set_title(title, fontsize=8)
    cmap = "RdBu_r" if sign == "all" else "inferno"
    total_label = {"absolute": "Σ|a|", "positive": "Σa⁺", "all": "Σa"}[sign]
    for j, method in enumerate(methods, start=1):
        pooled = torch.cat([row[3][j - 1].flatten() for row in rows]).abs().numpy()
        high = float(np.percentile(pooled, 100 - saturate_percent)) if saturate_percent else float(pooled.max())
        if not math.isfinite(high) or high <= 0:
            high = float(pooled.max()) if pooled.max() > 0 else 1e-12  # all-zero column: a tiny range
        vmin, vmax = (-high, high) if sign == "all" else (0.0, high)
        image = None
        for i, row in enumerate(rows):
            heat = row[3][j - 1]
            image = axes[i, j].imshow(heat.numpy(), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            heading = METHOD_TITLES[method] if i == 0 else ""
            note = "all zero" if not bool(heat.any()) else f"{total_label}={heat.sum().item():.3g}"
            axes[i, j].set_title(f"{heading}\n{note}" if heading else note, fontsize=8)
        bar = fig.colorbar(image, ax=axes[:, j], location="bottom", shrink=0.9, aspect=18, pad=0.01)
        bar.ax.tick_params(labelsize=7)
        bar.ax.xaxis.get_offset_text().set_fontsize(7)
        what = "Grad-CAM (ReLU of weighted activations)" if method == "gradcam" else \
            f"{'signed' if sign == 'all' else sign} attribution"
        bar.set_label(what, fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    what = "predicted class" if target is None else _class_name(int(target), labels)
    fig.suptitle(f"Attributions for the {what}; colour scale shared within each method column "
                 f"(one colourbar each){'' if not saturate_percent else f', top {saturate_percent:g}% saturated'}",
                 fontsize=9)
    return fig
