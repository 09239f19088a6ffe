"""Feature maps of a first layer on clean and noisy images, and their signal-to-noise ratio.

Pure computations (tensors and tidy DataFrames, no matplotlib):

* :func:`layer_responses`: the push map ``ReLU(k * I)``, the pull map ``ReLU(-k_up * I)`` and
  the output ``push - alpha * pull`` of a :class:`~pushpull_viz.layers.PushPull2d`, or the
  rectified output ``ReLU(conv(I))`` of a plain ``nn.Conv2d``;
* :func:`pushpull_output`: the output for another ``alpha`` from already computed push and
  pull maps (no convolution: what an ``alpha`` slider needs);
* :func:`feature_snr`: the feature-map SNR in dB over noise levels and ``alpha`` values.

Figures (matplotlib ``Figure`` returned, never shown): :func:`plot_feature_maps` and
:func:`plot_snr_curves`.

Layers can be given as a ``PushPull2d``, an ``nn.Conv2d`` or a whole model. For a model
the first convolution is used (:func:`~pushpull_viz.viz.kernels.first_conv`) and, by
default (``normalize="auto"``), the model's own input normalisation (its ``Normalize``
module in front of that layer) is applied first, so the layer sees what it sees inside
the model; corruptions are always applied to the images in [0, 1], before normalising.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checks import as_images, check_alpha, check_channels, check_int, check_number, check_severity
from ..layers import PushPull2d, PushPullLayer, add_channel_bias, combine_responses, first_conv
from .kernels import EPSILON, FirstLayer

if TYPE_CHECKING:  # pragma: no cover
    import numpy
    import pandas
    from matplotlib.figure import Figure

__all__ = [
    "interior_mask",
    "layer_responses",
    "pushpull_output",
    "feature_snr",
    "robust_limit",
    "snr_db",
    "FeatureMapPlot",
    "plot_feature_maps",
    "plot_snr_curves",
]

Normalization = Callable[[Tensor], Tensor] | Literal["auto"] | None
CorruptionFunction = Callable[[Tensor, object, "torch.Generator | None"], Tensor]
SEQUENTIAL_CMAP = "magma"
DIVERGING_CMAP = "RdBu_r"
GAP_GREY = "0.75"


# ------------------------------------------------------------------------------ helpers
def model_normalization(model: nn.Module) -> nn.Module | None:
    """The model's ``Normalize`` module in front of its first convolution, if any."""
    from ..models.common import Normalize

    for module in model.modules():
        if isinstance(module, (PushPullLayer, nn.Conv2d)):
            return None
        if isinstance(module, Normalize):
            return module
    return None


def interior_mask(shape: Sequence[int], margin: int, device: torch.device | str | None = None) -> Tensor:
    """A boolean ``(H, W)`` mask, False within ``margin`` pixels of the border.

    Zero padding makes a bright image look like an edge at its border; a layer responds there (for
    a push-pull layer mostly through the wide pull kernel), so colour limits and measures that should
    describe the image exclude that margin. A margin too large for the map leaves the centre pixel.

    >>> interior_mask((5, 5), 1).int().sum().item()
    9
    """
    height, width = shape[-2:]
    mask = torch.zeros(height, width, dtype=torch.bool, device=device)
    top, left = min(margin, (height - 1) // 2), min(margin, (width - 1) // 2)
    mask[top:height - top, left:width - left] = True
    return mask


def robust_limit(maps: Sequence[Tensor], border: int, quantile: float = 0.995) -> float:
    """The ``quantile`` of ``|value|`` over the interior pixels (``border`` left out, see
    :func:`interior_mask`) of all ``maps``: a colour limit that neither a padding edge nor a few
    outliers set. 0 for no pixels.

    >>> m = torch.zeros(5, 5); m[0, 0] = 100.0; m[2, 2] = 1.0
    >>> robust_limit([m], border=1, quantile=1.0)
    1.0
    """
    values = [m[..., interior_mask(m.shape, border, m.device)].abs().nan_to_num(0.0).flatten().float()
              for m in maps if m.numel()]
    values = torch.cat(values) if values else torch.zeros(0)
    return torch.quantile(values, quantile).item() if values.numel() else 0.0


def _resolve(layer: nn.Module, normalize: Normalization, argument: str = "layer") -> tuple[FirstLayer, Callable | None]:
    """``(first layer, input transform or None)`` for a layer or a model."""
    if not isinstance(layer, nn.Module):
        raise TypeError(f"{argument} must be a push-pull layer, an nn.Conv2d or a model (nn.Module), "
                        f"got {type(layer).__name__}")
    found = first_conv(layer)
    if isinstance(normalize, str):
        if normalize != "auto":
            raise ValueError(f"normalize must be 'auto', None or a callable, got {normalize!r}")
        normalize = model_normalization(layer) if found is not layer else None
    elif normalize is not None and not callable(normalize):
        raise TypeError(f"normalize must be 'auto', None or a callable, got {type(normalize).__name__}")
    return found, normalize


def _layer_device(layer: FirstLayer) -> tuple[torch.device, torch.dtype]:
    weight = layer.push.weight if isinstance(layer, PushPullLayer) else layer.weight
    return weight.device, weight.dtype


def pushpull_output(push: Tensor, pull: Tensor, alpha: float | Tensor, bias: Tensor | None = None) -> Tensor:
    """``push - alpha * pull`` (+ the 2024 variant's separate ``bias``), as the layer combines them.

    Lets a figure or a slider change ``alpha`` without another convolution: push and
    pull responses do not depend on ``alpha``. A tensor ``alpha`` (learned, shape
    ``(1, C, 1, 1)``) is clamped at 0, as in the layer.

    Args:
        push: rectified push response ``ReLU(k * I)``.
        pull: rectified pull response ``ReLU(-k_up * I)``.
        alpha: inhibition strength >= 0, or a per-channel tensor.
        bias: per-channel bias added after the combination (2024 variant only).

    Returns:
        The layer output.

    Shape:
        - push, pull: ``(N, C, H, W)`` or ``(C, H, W)`` (same shape); output: the same.

    Example:
        >>> pushpull_output(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 3.0]), 0.5).tolist()
        [1.5, -1.5]
    """
    return add_channel_bias(combine_responses(push, pull, alpha), bias)


def _responses(layer: FirstLayer, x: Tensor, alpha: float | Tensor | None) -> dict[str, Tensor]:
    """Responses for an already prepared (normalised, on-device) batch."""
    with torch.no_grad():
        if isinstance(layer, PushPullLayer):
            push, pull = layer.push_pull_responses(x)
            return {"push": push, "pull": pull, "output": layer.output_from_responses(push, pull, alpha)}
        return {"output": F.relu(layer(x))}


def _prepare(layer: FirstLayer, normalize: Callable | None, images: Tensor, argument: str,
             check_range: bool = False) -> tuple[Tensor, bool]:
    device, dtype = _layer_device(layer)
    x, batched = as_images(images, argument, channels=layer.in_channels, check_range=check_range)
    x = x.to(device=device, dtype=dtype)
    if normalize is not None:
        with torch.no_grad():
            x = normalize(x)
    return x, batched


# ------------------------------------------------------------------------------ responses
def layer_responses(layer: nn.Module, image: Tensor, *, alpha: float | None = None,
                    normalize: Normalization = "auto") -> dict[str, Tensor]:
    """The response maps of a first layer to an image (no gradients; the layer is not changed).

    For a ``PushPull2d``: ``"push"`` = ``ReLU(k * I)``, ``"pull"`` = ``ReLU(-k_up * I)`` and
    ``"output"`` = ``push - alpha * pull``, exactly what ``layer(I)`` returns (with the
    layer's own alpha unless ``alpha`` is given). For an ``nn.Conv2d`` (the plain twin):
    ``"output"`` = ``ReLU(conv(I))``, the rectified output, as a network applies it.

    Args:
        layer: a ``PushPull2d``, an ``nn.Conv2d`` or a model (its first convolution).
        image: ``(C, H, W)`` or ``(N, C, H, W)``, float (images in [0, 1]) or uint8
            (divided by 255); ``C`` must equal the layer's ``in_channels``.
        alpha: inhibition strength for ``"output"`` instead of the layer's (>= 0).
        normalize: ``"auto"`` (a model's own input normalisation, none for a bare layer),
            None, or a callable applied to the float images first.

    Returns:
        ``{"push", "pull", "output"}`` (push-pull) or ``{"output"}`` (conv), detached
        tensors on the layer's device, unbatched if ``image`` was.

    Shape:
        - image: ``(C_in, H, W)`` or ``(N, C_in, H, W)``
        - each response: ``(C_out, H_out, W_out)`` or ``(N, C_out, H_out, W_out)``

    Example:
        >>> from pushpull_viz.layers import PushPull2d
        >>> layer, image = PushPull2d(1, 6, 5, padding=2), torch.rand(1, 28, 28)
        >>> maps = layer_responses(layer, image)
        >>> sorted(maps), tuple(maps["output"].shape)
        (['output', 'pull', 'push'], (6, 28, 28))
        >>> bool(torch.allclose(maps["output"], layer(image[None])[0]))
        True
    """
    found, transform = _resolve(layer, normalize)
    if alpha is not None:
        alpha = check_alpha(alpha)
    x, batched = _prepare(found, transform, image, "image")
    maps = _responses(found, x, alpha)
    return maps if batched else {key: value[0] for key, value in maps.items()}


def snr_db(signal_energy: float, noise_energy: float) -> float:
    """``10 log10(signal_energy / noise_energy)``, with the edge cases spelled out.

    ``noise_energy == 0`` gives ``+inf`` (a noise-free response) when there is signal
    and NaN when there is neither (e.g. an all-zero kernel); ``signal_energy == 0`` with
    noise gives ``-inf``.

    Example:
        >>> snr_db(100.0, 1.0), snr_db(1.0, 0.0), snr_db(0.0, 0.0)
        (20.0, inf, nan)
    """
    if signal_energy < 0 or noise_energy < 0:
        raise ValueError(f"energies must be >= 0, got {signal_energy}, {noise_energy}")
    if noise_energy == 0:
        return math.inf if signal_energy > 0 else math.nan
    if signal_energy == 0:
        return -math.inf
    return 10 * math.log10(signal_energy / noise_energy)


def _corruption(corruption: str | CorruptionFunction, levels: Sequence, as_severity: bool
                ) -> tuple[CorruptionFunction, str, str, list, list]:
    """``(function, name, parameter, levels passed to the function, severities or None)``."""
    from ..corruptions import corrupt_at_level, corruption_info, corruption_level

    if isinstance(levels, (str, bytes)) or not isinstance(levels, (Sequence, Tensor, range)):
        raise TypeError(f"noise_levels must be a sequence of levels, got {type(levels).__name__}")
    levels = levels.tolist() if isinstance(levels, Tensor) else list(levels)
    if not levels:
        raise ValueError("noise_levels must not be empty")
    if isinstance(corruption, str):
        parameter = corruption_info(corruption).parameter  # an unknown name fails here, with the valid ones

        def function(images: Tensor, level, generator: torch.Generator | None) -> Tensor:
            return corrupt_at_level(images, corruption, level, generator)

        if as_severity:
            severities = corruption_info(corruption).severities
            levels = [check_severity(s, severities, "with as_severity=True, noise_levels must be severities, and "
                                     "each", repr(corruption)) for s in levels]
            return function, corruption, parameter, [corruption_level(corruption, s) for s in levels], levels
        return function, corruption, parameter, levels, [None] * len(levels)
    if callable(corruption):
        if as_severity:
            raise ValueError("as_severity=True needs a registered corruption name, not a callable")
        name = getattr(corruption, "__name__", type(corruption).__name__)
        return corruption, name, "level", levels, [None] * len(levels)
    raise TypeError(f"corruption must be a registered corruption name or a callable "
                    f"(images, level, generator) -> images, got {type(corruption).__name__}")


def feature_snr(layer: nn.Module | Mapping[str, nn.Module], images: Tensor, noise_levels: Sequence,
                alphas: Sequence[float] | None = None,
                corruption: str | CorruptionFunction = "mnist_gaussian_noise", seed: int = 0, *,
                as_severity: bool = False, normalize: Normalization = "auto",
                batch_size: int = 512) -> pandas.DataFrame:
    """Feature-map signal-to-noise ratio of first layers, per noise level and ``alpha``.

    The measure, for one layer, ``alpha`` and noise level::

        SNR_dB = 10 log10( sum ||R(x)||^2 / sum ||R(x~) - R(x)||^2 )

    where both sums run over all ``images`` x and all output channels and positions,
    ``x~`` is ``x`` corrupted at that level, and ``R`` is the layer's output after the
    push-pull combination, ``R = ReLU(k * x) - alpha ReLU(-k_up * x)`` (for a plain
    ``nn.Conv2d``: ``R = ReLU(conv(x))``). It is one pooled ratio of energies, not a
    mean of per-image ratios. Noise-free responses give ``+inf`` dB (NaN if the
    response is zero as well, see :func:`snr_db`).

    Noise is drawn from ``torch.Generator().manual_seed(seed)`` afresh for every level,
    so all levels, alphas and layers see the same underlying noise pattern (common
    random numbers: the curves differ by the level, not by luck). The push and pull
    maps do not depend on ``alpha``; they are computed once per level and combined for
    every ``alpha``, and no layer is modified.

    Args:
        layer: a ``PushPull2d``, an ``nn.Conv2d``, a model (its first convolution), or a
            mapping ``{name: layer}`` to compare several (e.g. a push-pull layer and a plain
            conv with the same push weights).
        images: ``(N, C, H, W)`` or ``(C, H, W)``, uint8 or float in [0, 1].
        noise_levels: the corruption's parameter values (for ``"mnist_gaussian_noise"`` the
            noise *variance* sigma^2; any value >= 0, not only the registered severities), or
            with ``as_severity=True`` severities 1..5 of a registered (e.g. CIFAR-10-C) corruption.
        alphas: inhibition strengths to evaluate the push-pull layers at (each >= 0);
            default: each layer's own alpha. Ignored for plain convolutions.
        corruption: a registered corruption name (:func:`pushpull_viz.corruptions.list_corruptions`;
            its ``function(x, level, generator)`` is called) or such a callable.
        seed: noise seed.
        as_severity: read ``noise_levels`` as severities of ``corruption``.
        normalize: input normalisation, see :func:`layer_responses`.
        batch_size: images per forward pass (memory bound only; results do not depend on it).

    Returns:
        A tidy DataFrame, one row per (layer, alpha, level), with columns ``layer``,
        ``kind`` (``"push-pull"`` or ``"conv"``), ``alpha`` (NaN for a conv or a learned
        alpha), ``alpha_label``, ``corruption``, ``parameter``, ``severity``, ``noise_level``,
        ``snr_db``, ``signal_energy``, ``noise_energy``, ``n_images``, ``seed``.

    Shape:
        - images: ``(N, C_in, H, W)`` or ``(C_in, H, W)``.

    Example:
        >>> from pushpull_viz.layers import PushPull2d
        >>> _ = torch.manual_seed(0); layer = PushPull2d(1, 4, 3, padding=1)
        >>> df = feature_snr(layer, torch.rand(4, 1, 16, 16), [0.0, 0.01, 0.1], alphas=[0.0, 1.0])
        >>> df[["alpha", "noise_level"]].shape, bool(df.snr_db.iloc[0] == float("inf"))
        ((6, 2), True)
    """
    import pandas as pd

    named = dict(layer) if isinstance(layer, Mapping) else {_default_name(layer): layer}
    if not named:
        raise ValueError("layer must be a layer, a model or a non-empty mapping {name: layer}")
    resolved = {name: _resolve(value, normalize, f"layer[{name!r}]") for name, value in named.items()}
    if alphas is not None:
        if isinstance(alphas, (int, float)) and not isinstance(alphas, bool):
            alphas = [alphas]
        alphas = [check_alpha(a, "alphas") for a in alphas]
        if not alphas:
            raise ValueError("alphas must not be empty (or None for each layer's own alpha)")
    check_int(batch_size, "batch_size", 1)
    seed = check_int(seed, "seed")
    function, corruption_name, parameter, levels, severities = _corruption(corruption, noise_levels, as_severity)
    in_channels = {found.in_channels for found, _ in resolved.values()}
    if len(in_channels) > 1:
        raise ValueError(f"the layers expect different input channel counts {sorted(in_channels)}")
    clean, _ = as_images(images, "images", channels=in_channels.pop())
    n_images = clean.shape[0]

    def settings(found: FirstLayer) -> list[tuple[float | Tensor, float, str]]:
        """(alpha used, alpha reported, label) per evaluated alpha."""
        if not isinstance(found, PushPullLayer):
            return [(0.0, math.nan, "plain conv")]
        if alphas is not None:
            return [(a, a, f"alpha={a:g}") for a in alphas]
        if isinstance(found.alpha, Tensor):
            return [(found.alpha.detach(), math.nan, "learned alpha")]
        return [(found.alpha, found.alpha, f"alpha={found.alpha:g}")]

    rows = []
    for level, severity in zip(levels, severities, strict=True):
        generator = torch.Generator(device=clean.device).manual_seed(seed)
        noisy = function(clean, level, generator).clamp(0, 1).to(clean.dtype)
        if noisy.shape != clean.shape:
            raise ValueError(f"corruption {corruption_name!r} changed the image shape {tuple(clean.shape)} "
                             f"-> {tuple(noisy.shape)}")
        for name, (found, transform) in resolved.items():
            evaluated = settings(found)
            signal = [0.0] * len(evaluated)
            noise = [0.0] * len(evaluated)
            for start in range(0, n_images, batch_size):
                x, _ = _prepare(found, transform, clean[start:start + batch_size], "images")
                y, _ = _prepare(found, transform, noisy[start:start + batch_size], "images")
                maps_x, maps_y = _responses(found, x, None), _responses(found, y, None)
                for i, (alpha, _, _) in enumerate(evaluated):
                    if isinstance(found, PushPullLayer):
                        rx = found.output_from_responses(maps_x["push"], maps_x["pull"], alpha)
                        ry = found.output_from_responses(maps_y["push"], maps_y["pull"], alpha)
                    else:
                        rx, ry = maps_x["output"], maps_y["output"]
                    signal[i] += rx.double().pow(2).sum().item()
                    noise[i] += (ry.double() - rx.double()).pow(2).sum().item()
            for (_, reported, label), s, e in zip(evaluated, signal, noise, strict=True):
                rows.append({
                    "layer": name, "kind": "push-pull" if isinstance(found, PushPullLayer) else "conv",
                    "alpha": reported, "alpha_label": label, "corruption": corruption_name, "parameter": parameter,
                    "severity": severity, "noise_level": level, "snr_db": snr_db(s, e), "signal_energy": s,
                    "noise_energy": e, "n_images": n_images, "seed": seed,
                })
    frame = pd.DataFrame(rows)
    frame["severity"] = frame["severity"].astype("Int64") if as_severity else pd.array([pd.NA] * len(frame), "Int64")
    return frame


def _border_of(layer: FirstLayer) -> int:
    """Pixels at the border of a layer's maps that see the zero padding: half its widest kernel."""
    if isinstance(layer, PushPull2d):
        return max(layer.pull_kernel_size) // 2
    kernel = layer.push.kernel_size if isinstance(layer, PushPullLayer) else layer.kernel_size
    return max(kernel) // 2


def _default_name(layer: nn.Module) -> str:
    found = first_conv(layer) if isinstance(layer, nn.Module) else layer
    return "push-pull" if isinstance(found, PushPullLayer) else "conv"


# ------------------------------------------------------------------------------ figures
def _montage(maps: Tensor, gap: int) -> tuple[Tensor, list[float]]:
    """``(n, H, W)`` maps side by side with NaN gaps -> ``(H, n (W + gap) - gap)``, tile centres."""
    n, h, w = maps.shape
    image = torch.full((h, n * (w + gap) - gap), float("nan"))
    for i in range(n):
        image[:, i * (w + gap):i * (w + gap) + w] = maps[i]
    return image, [i * (w + gap) + (w - 1) / 2 for i in range(n)]


ROW_TYPES = {
    # row type: (label, colormap, symmetric about 0)
    "conv": ("conv output\nReLU(w*I)", SEQUENTIAL_CMAP, False),
    "push": ("push\nReLU(k*I)", SEQUENTIAL_CMAP, False),
    "pull": ("pull\nReLU(-k_up*I)", SEQUENTIAL_CMAP, False),
    "output": ("PP output\npush - {alpha}*pull", DIVERGING_CMAP, True),
}
ROW_LABEL_STYLE = {"rotation": 0, "ha": "right", "va": "center", "fontsize": 8}
_KEEP = object()  # "argument not given" for FeatureMapPlot.update


class FeatureMapPlot:
    """The figure of :func:`plot_feature_maps`, kept live for sliders.

    ``FeatureMapPlot(...).figure`` is what :func:`plot_feature_maps` returns;
    :meth:`update` then changes the clean image, the noisy image or ``alpha`` in place,
    recomputing only what changed (a new ``alpha`` needs no convolution at all: the
    stored push and pull maps are recombined) and updating the existing artists
    instead of building a new figure. After the first update the layout is frozen
    (constrained layout is not recomputed on every draw), which keeps redraws cheap.

    Args:
        See :func:`plot_feature_maps`.

    Attributes:
        figure: the matplotlib ``Figure``.
        maps: ``{layer name: {"clean" | "noisy": {"push", "pull", "output"} or {"output"}}}``,
            the shown channels as CPU tensors ``(n_channels, H_out, W_out)``.

    Example:
        >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
        >>> from pushpull_viz.layers import PushPull2d
        >>> view = FeatureMapPlot({"pp": PushPull2d(1, 3, 3, padding=1)}, torch.rand(1, 8, 8), torch.rand(1, 8, 8))
        >>> fig = view.update(alpha=0.0)  # no convolution: push and pull maps are reused
        >>> bool(torch.equal(view.maps["pp"]["clean"]["output"], view.maps["pp"]["clean"]["push"]))
        True
        >>> plt.close(fig)
    """

    def __init__(self, layers: Mapping[str, nn.Module] | nn.Module, image: Tensor, noisy_image: Tensor | None = None,
                 channels: int | Sequence[int] | None = None, *, alpha: float | None = None,
                 normalize: Normalization = "auto", noise_label: str | None = None,
                 border: int | str = "auto", quantile: float = 0.995) -> None:
        named = dict(layers) if isinstance(layers, Mapping) else {_default_name(layers): layers}
        if not named:
            raise ValueError("layers must be a non-empty mapping {name: layer} (or one layer)")
        if not (border == "auto" or (isinstance(border, int) and not isinstance(border, bool) and border >= 0)):
            raise ValueError(f"border must be 'auto' or a number of pixels >= 0, got {border!r}")
        self._quantile = check_number(quantile, "quantile", 0.5)
        if self._quantile > 1:
            raise ValueError(f"quantile must lie in [0.5, 1], got {quantile!r}")
        self._alpha = check_alpha(alpha) if alpha is not None else None
        self._layers = {name: _resolve(value, normalize, f"layers[{name!r}]") for name, value in named.items()}
        self._check_image(image, "image")
        if noisy_image is not None:
            self._check_image(noisy_image, "noisy_image", like=image)
        self._images = {"clean": image} if noisy_image is None else {"clean": image, "noisy": noisy_image}
        out_channels = min(found.out_channels for found, _ in self._layers.values())
        self.channels = check_channels(channels, out_channels, default_max=8)
        self._noise_label = noise_label
        # colour limits ignore this many pixels at the border, where the zero padding makes an edge
        self.border = max(_border_of(found) for found, _ in self._layers.values()) if border == "auto" else border
        self.maps: dict[str, dict[str, dict[str, Tensor]]] = {name: {} for name in self._layers}
        # full push and pull maps (all channels, on the layer's device) of each push-pull layer and condition
        self._branches: dict[str, dict[str, tuple[Tensor, Tensor]]] = {}
        for condition in self._images:
            self._compute(condition)
        self.figure = self._build()

    # ---- computation -----------------------------------------------------------------
    @staticmethod
    def _check_image(value: Tensor, argument: str, like: Tensor | None = None) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"{argument} must be a torch.Tensor (C, H, W) or (1, C, H, W), got {type(value).__name__}")
        if value.dim() == 4 and value.shape[0] != 1:
            raise ValueError(f"{argument} must be one image (C, H, W) or (1, C, H, W), got shape {tuple(value.shape)}")
        if like is not None and value.shape != like.shape:
            raise ValueError(f"{argument} must have the same shape as image {tuple(like.shape)}, "
                             f"got {tuple(value.shape)}")

    def _alpha_for(self, found: PushPullLayer) -> float | Tensor:
        """The alpha of the output rows: the figure's, else the layer's own."""
        return found.alpha if self._alpha is None else self._alpha

    def _output(self, name: str, condition: str) -> Tensor:
        """The layer's output for the shown channels, from its full push and pull maps."""
        found = self._layers[name][0]
        push, pull = self._branches[name][condition]
        with torch.no_grad():
            return found.output_from_responses(push, pull, self._alpha_for(found))[0, self.channels].float().cpu()

    def _compute(self, condition: str) -> None:
        argument = "image" if condition == "clean" else "noisy_image"
        for name, (found, transform) in self._layers.items():
            x, _ = _prepare(found, transform, self._images[condition], argument)
            responses = _responses(found, x, None)
            maps = {k: v[0, self.channels].float().cpu() for k, v in responses.items()}
            if isinstance(found, PushPullLayer):
                self._branches.setdefault(name, {})[condition] = (responses["push"], responses["pull"])
                maps["output"] = self._output(name, condition)
            self.maps[name][condition] = maps

    def _rows(self) -> list[tuple[str, str, dict[str, Tensor]]]:
        """``(row type, layer name, {condition: maps})`` per figure row."""
        rows = []
        for name, (found, _) in self._layers.items():
            kinds = ("push", "pull", "output") if isinstance(found, PushPullLayer) else ("output",)
            for kind in kinds:
                row_type = kind if isinstance(found, PushPullLayer) else "conv"
                rows.append((row_type, name, {c: self.maps[name][c][kind] for c in self._images}))
        return rows

    def _limits(self, rows: list[tuple[str, str, dict[str, Tensor]]]) -> dict[str, float]:
        """Per row type: the ``quantile`` of ``|value|`` over the interior pixels (``border`` excluded) of
        every map of that type, so neither a padding edge nor a few outliers set the scale."""
        maps_of: dict[str, list[Tensor]] = {}
        for row_type, _, maps in rows:
            maps_of.setdefault(row_type, []).extend(maps.values())
        limits = {k: robust_limit(v, self.border, self._quantile) for k, v in maps_of.items()}
        return {k: (v if v > 0 and math.isfinite(v) else EPSILON) for k, v in limits.items()}

    def _row_label(self, row_type: str, name: str) -> str:
        label = ROW_TYPES[row_type][0]
        if row_type == "output":
            found = self._layers[name][0]
            alpha = self._alpha_for(found)
            label = label.format(alpha="alpha" if isinstance(alpha, Tensor) else f"{alpha:g}")
        return f"{name}\n{label}"

    def _picture(self, value: Tensor) -> numpy.ndarray:
        picture, _ = as_images(value, "image", check_range=False)
        picture = picture[0].permute(1, 2, 0).float().cpu().clamp(0, 1)
        return (picture[..., 0] if picture.shape[-1] == 1 else picture).numpy()

    def _column_title(self, condition: str) -> str:
        if condition == "clean":
            return "clean image"
        return f"noisy image ({self._noise_label})" if self._noise_label else "noisy image"

    # ---- figure ------------------------------------------------------------------------
    def _build(self) -> Figure:
        import matplotlib.pyplot as plt

        rows = self._rows()
        limits = self._limits(rows)
        h, w = rows[0][2]["clean"].shape[-2:]
        self._gap = gap = max(1, round(w / 12))
        n = len(self.channels)
        strip_width = n * (w + gap) - gap
        n_conditions = len(self._images)
        panel_width = min(7.0, 0.85 * n)  # inches per strip
        row_height = max(0.75, panel_width * h / strip_width)
        fig = plt.figure(figsize=(1.6 + n_conditions * panel_width + 0.9, 1.1 + (len(rows) + 1) * (row_height + 0.32)),
                         layout="constrained")
        grid = fig.add_gridspec(len(rows) + 1, n_conditions + 1,
                                width_ratios=[strip_width] * n_conditions + [max(strip_width * 0.03, 1.0)])
        self._input_artists, self._input_axes = {}, {}
        for j, (condition, value) in enumerate(self._images.items()):
            ax = fig.add_subplot(grid[0, j])
            picture = self._picture(value)
            self._input_artists[condition] = ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None,
                                                       vmin=0, vmax=1, interpolation="nearest")
            ax.set_anchor("W")
            ax.set_title(self._column_title(condition), fontsize=9, loc="left")
            ax.set_xticks([])
            ax.set_yticks([])
            self._input_axes[condition] = ax
            if j == 0:
                ax.set_ylabel("input", rotation=0, ha="right", va="center", fontsize=8)
        self._row_artists: list[dict] = []
        counts = {t: sum(r[0] == t for r in rows) for t in limits}
        for r, (row_type, name, maps) in enumerate(rows, start=1):
            _, cmap_name, symmetric = ROW_TYPES[row_type]
            cmap = plt.get_cmap(cmap_name).with_extremes(bad=GAP_GREY)
            limit = limits[row_type]
            artists, label_axes = {}, None
            for j, condition in enumerate(self._images):
                ax = fig.add_subplot(grid[r, j])
                strip, centres = _montage(maps[condition], gap)
                artists[condition] = ax.imshow(strip.numpy(), cmap=cmap, vmin=-limit if symmetric else 0.0, vmax=limit,
                                               interpolation="nearest")
                ax.set_yticks([])
                ax.set_xticks(centres, [str(c) for c in self.channels], fontsize=8)
                ax.tick_params(length=0, pad=1)
                if j == 0:
                    ax.set_ylabel(self._row_label(row_type, name), **ROW_LABEL_STYLE)
                    label_axes = ax
                if r == len(rows):
                    ax.set_xlabel("output channel", fontsize=8)
            colourbar = fig.colorbar(artists["clean"], cax=fig.add_subplot(grid[r, -1]))
            colourbar.ax.tick_params(labelsize=7)
            shared = counts[row_type] > 1
            colourbar.set_label(f"shared by {counts[row_type]} rows" if shared else "response", fontsize=7)
            self._row_artists.append({"type": row_type, "name": name, "images": artists, "label": label_axes})
        fig.suptitle(self._suptitle(), fontsize=10)
        width_chars = max(60, int(fig.get_figwidth() * 15))  # about 8-point characters per inch
        fig.supxlabel(textwrap.fill(self._scale_note(), width_chars), fontsize=8)
        return fig

    def _scale_note(self) -> str:
        quantile = "largest |value|" if self._quantile == 1 else f"{100 * self._quantile:g}th percentile of |value|"
        border = f", {self.border}-pixel border excluded (zero-padding edges)" if self.border else ""
        return (f"colour scale shared within each row type (conv / push / pull / PP output) across clean and noisy "
                f"strips and all layers, set by the {quantile}{border}; grey = gaps between channels")

    def _suptitle(self) -> str:
        first = "First-layer response maps, clean vs noisy" if len(self._images) == 2 else "First-layer response maps"
        return first + (f" (alpha={self._alpha:g} for all push-pull outputs)" if self._alpha is not None else "")

    def update(self, *, image: Tensor | None = None, noisy_image: Tensor | None = None,
               alpha: float | None | object = _KEEP, noise_label: str | None | object = _KEEP) -> Figure:
        """Change images or ``alpha`` in place; only what changed is recomputed.

        Args:
            image: a new clean image (same shape as before).
            noisy_image: a new noisy image (same shape; the figure must have a noisy column).
            alpha: a new inhibition strength for all push-pull outputs (>= 0), or None for
                each layer's own; left out: unchanged.
            noise_label: a new description of the noise for the column title.

        Returns:
            The (same) figure, ready to be drawn.
        """
        if image is not None:
            self._check_image(image, "image", like=self._images["clean"])
            self._images["clean"] = image
            self._compute("clean")
        if noisy_image is not None:
            if "noisy" not in self._images:
                raise ValueError("noisy_image: this figure has no noisy column; build it with a noisy_image")
            self._check_image(noisy_image, "noisy_image", like=self._images["noisy"])
            self._images["noisy"] = noisy_image
            self._compute("noisy")
        if alpha is not _KEEP:
            self._alpha = check_alpha(alpha) if alpha is not None else None
            for name in self._branches:
                for condition, maps in self.maps[name].items():
                    maps["output"] = self._output(name, condition)
        if noise_label is not _KEEP:
            self._noise_label = noise_label
        fig = self.figure
        if fig.get_layout_engine() is not None and not isinstance(fig.get_layout_engine(), _placeholder_engine()):
            fig.draw_without_rendering()  # positions from the constrained layout, computed once
            fig.set_layout_engine("none")
        for condition, artist in self._input_artists.items():
            artist.set_data(self._picture(self._images[condition]))
            self._input_axes[condition].set_title(self._column_title(condition), fontsize=9, loc="left")
        rows = self._rows()
        limits = self._limits(rows)
        for (row_type, name, maps), entry in zip(rows, self._row_artists, strict=True):
            symmetric = ROW_TYPES[row_type][2]
            limit = limits[row_type]
            for condition, artist in entry["images"].items():
                artist.set_data(_montage(maps[condition], self._gap)[0].numpy())
                artist.set_clim(-limit if symmetric else 0.0, limit)
            entry["label"].set_ylabel(self._row_label(row_type, name), **ROW_LABEL_STYLE)
        fig.suptitle(self._suptitle(), fontsize=10)
        return fig


def _placeholder_engine() -> type:
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    return PlaceHolderLayoutEngine


def plot_feature_maps(layers: Mapping[str, nn.Module] | nn.Module, image: Tensor, noisy_image: Tensor | None = None,
                      channels: int | Sequence[int] | None = None, *, alpha: float | None = None,
                      normalize: Normalization = "auto", noise_label: str | None = None,
                      border: int | str = "auto", quantile: float = 0.995) -> Figure:
    """Response maps of first layers on a clean image and (optionally) a noisy one, side by side.

    Rows: the input images, then for each layer given either the plain conv output
    ``ReLU(conv I)`` or the push-pull layer's push ``ReLU(k * I)``, pull
    ``ReLU(-k_up * I)`` and output ``push - alpha * pull``. Columns: the selected output
    channels, as one strip per image (clean left, noisy right). One colour scale per
    row *type* (conv output / push / pull / push-pull output), shared by the clean and
    the noisy strip and by every layer with such a row, so brightness compares
    directly; non-negative maps use ``magma`` from 0, the signed push-pull output a
    diverging map symmetric about 0. Grey: gaps between channels. For a live figure
    that sliders update in place, use :class:`FeatureMapPlot`.

    Args:
        layers: ``{name: layer or model}`` (or one layer), e.g. ``{"plain": conv, "push-pull": pp}``.
        image: one image ``(C, H, W)`` or ``(1, C, H, W)``, float in [0, 1] or uint8.
        noisy_image: its corrupted version (same shape), or None for the clean column only.
        channels: output channels (int, sequence, or None for the first 8).
        alpha: inhibition strength for the push-pull outputs instead of each layer's own.
        normalize: input normalisation, see :func:`layer_responses`.
        noise_label: how the noise is described in the column title (e.g. ``"sigma^2=0.2"``).
        border: pixels at the map border left out when setting colour limits: ``"auto"`` (half the widest
            kernel, the pixels that see the zero padding) or a number.
        quantile: the colour limit of a row type is this quantile of ``|value|`` over its interior pixels
            (1 = the largest); larger values are drawn at the end of the scale.

    Returns:
        The figure: an input row (1-2 axes) and one row of 1-2 axes per map, each row
        with a colourbar axes.

    Shape:
        - image, noisy_image: ``(C_in, H, W)`` or ``(1, C_in, H, W)``.

    Example:
        >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
        >>> from pushpull_viz.layers import PushPull2d
        >>> pp = PushPull2d(1, 3, 3, padding=1)
        >>> fig = plot_feature_maps({"pp": pp}, torch.rand(1, 8, 8), torch.rand(1, 8, 8))
        >>> len(fig.axes)  # input row (2) + 3 map rows x (2 strips + colourbar)
        11
        >>> plt.close(fig)
    """
    return FeatureMapPlot(layers, image, noisy_image, channels, alpha=alpha, normalize=normalize,
                          noise_label=noise_label, border=border, quantile=quantile).figure


def plot_snr_curves(df: pandas.DataFrame, *, title: str | None = None) -> Figure:
    """Feature-map SNR (dB) against noise level: one line per alpha, a plain conv dashed.

    Args:
        df: :func:`feature_snr` output (several layers allowed: push-pull layers are told
            apart by line style, plain convs are drawn as dashed black reference lines).
            Rows whose SNR is not finite (e.g. +inf at noise level 0) are left out and
            counted in a note.
        title: figure title (default: names the corruption).

    Returns:
        The figure (one axes).

    Example:
        >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
        >>> from pushpull_viz.layers import PushPull2d
        >>> _ = torch.manual_seed(0); pp = PushPull2d(1, 4, 3, padding=1)
        >>> fig = plot_snr_curves(feature_snr(pp, torch.rand(2, 1, 12, 12), [0.01, 0.1], alphas=[0, 1]))
        >>> fig.axes[0].get_ylabel()
        'feature-map SNR (dB)'
        >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    needed = {"layer", "kind", "alpha", "alpha_label", "noise_level", "snr_db", "corruption", "parameter", "severity"}
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame from feature_snr, got {type(df).__name__}")
    missing = needed - set(df.columns)
    if missing:
        raise ValueError(f"df must be feature_snr output; missing columns {sorted(missing)}")
    if df.empty:
        raise ValueError("df is empty: nothing to plot")
    by_severity = not pd.api.types.is_numeric_dtype(df["noise_level"]) or df["noise_level"].isna().any()
    x = "severity" if by_severity and df["severity"].notna().all() else "noise_level"
    if x == "noise_level" and not pd.api.types.is_numeric_dtype(df["noise_level"]):
        raise ValueError("noise_level values are not numbers and no severities are given: "
                         "use feature_snr(..., as_severity=True)")
    finite = df[pd.Series(df["snr_db"].astype(float)).map(math.isfinite)].copy()
    finite[x] = finite[x].astype(float)
    dropped = len(df) - len(finite)
    pp = finite[finite["kind"] != "conv"]
    conv = finite[finite["kind"] == "conv"]

    fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    if not pp.empty:
        order = (pp.assign(_a=pp["alpha"].fillna(-1.0)).sort_values("_a")["alpha_label"].drop_duplicates().tolist())
        several = pp["layer"].nunique() > 1
        sns.lineplot(pp, x=x, y="snr_db", hue="alpha_label", hue_order=order, style="layer" if several else None,
                     palette="viridis" if len(order) > 2 else None, marker="o", ax=ax,
                     errorbar=None, estimator=None, sort=True)
    for name, part in conv.groupby("layer", sort=False):
        part = part.sort_values(x)
        ax.plot(part[x], part["snr_db"], "--", color="black", marker="s", markersize=4,
                label=f"{name} (plain conv, ReLU)")
    parameter = str(df["parameter"].iloc[0])
    ax.set_xlabel("severity" if x == "severity" else f"noise level ({parameter})")
    ax.set_ylabel("feature-map SNR (dB)")
    corruption = ", ".join(str(c) for c in df["corruption"].unique())
    fig.suptitle(title or f"First-layer feature SNR under {corruption}", fontsize=10)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=8, title="alpha / layer", title_fontsize=8)
    note = "SNR = 10 log10( sum R(clean)^2 / sum (R(noisy) - R(clean))^2 ), R = layer output, sums over images"
    if dropped:
        note += f"\n{dropped} non-finite value(s) (e.g. +inf without noise) not drawn"
    ax.set_title(note, fontsize=7, color="0.3")
    if finite.empty:
        ax.text(0.5, 0.5, "no finite SNR values to draw", ha="center", va="center", transform=ax.transAxes)
    return fig
