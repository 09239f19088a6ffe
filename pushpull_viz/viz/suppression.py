"""Does a push-pull layer keep its preferred pattern and suppress noise? Measures that can tell.

The paper's claim is about *units*: a push-pull unit still responds to the pattern it prefers,
and responds less to noise. The pooled feature-map SNR (:func:`~pushpull_viz.viz.features.feature_snr`)
cannot test that on its own: as alpha grows the output becomes ``-alpha * pull``, and the pull
kernel is a wide, smooth filter whose response changes little under noise, so that SNR rises
towards the pull branch's own SNR whether or not anything is inhibited. The measures here read the
layer as a detector of its preferred pattern and compare it with controls.

* The **readout** of a unit (output channel) is its response ``R`` averaged over the unit's
  *preferred region*: the interior pixels (away from the zero-padded border) where the push response
  to the clean preferred pattern is at least half its peak. Every response is read at the same pixels.
  ``readout="rectified"`` reads ``ReLU(R)``, what a unit passes on when a ReLU follows (LeNet);
  ``"signed"`` reads ``R`` itself, what a following batch norm or convolution receives (ResNet).
* The **preferred pattern** of a unit is its own push kernel, drawn at contrast ``contrast`` on a
  mid-grey image (the matched stimulus), unless a stimulus is given.
* :func:`detectability` draws ``trials`` noise samples, adds them to the preferred pattern
  (signal trials) and to the blank grey image (noise-only trials), and reports
  ``d' = (mean_signal - mean_noise) / sqrt((var_signal + var_noise) / 2)`` of the readout, with how
  much of the clean preferred response is kept and how much response noise alone evokes.
* Four responses of the same layer and weights (:func:`response_variants`): the push-pull output;
  the push branch alone (``alpha = 0``, the plain rectified convolution); the pull branch alone
  (``-alpha * ReLU(pull)``, never positive, so its readout is 0 for every alpha: a measure that
  grows with alpha because the output becomes the pull cannot grow here); and a **wide
  convolution** control, ``ReLU(k_up * I)``: the push kernel up-sampled to the pull's size, so the
  support and smoothing of the pull branch without any inhibition. If push-pull beat the push
  alone only because it smooths, the wide control would do as well.

What these can show: whether inhibition, at this layer, makes the preferred pattern easier to tell
from noise than the same kernel without it and than a smoother kernel of the same size. What they
cannot show: that the network classifies better (see the accuracy studies in ``results/``), or
anything about layers after the first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checks import as_images, check_alpha, check_channels, check_int, check_number
from ..corruptions import corrupt_at_level, corruption_info
from ..layers import PushPull2d
from ..layers.pull_kernel import upsample_kernel
from .features import Normalization, _resolve, interior_mask

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    from matplotlib.figure import Figure

__all__ = ["RESPONSES", "d_prime", "detectability", "plot_detectability", "preferred_stimulus", "response_variants"]

#: The responses compared, in plotting order.
RESPONSES = ("push-pull", "push only", "pull only", "wide conv")


def _pushpull_layer(layer: nn.Module, normalize: Normalization) -> tuple[PushPull2d, object]:
    found, transform = _resolve(layer, normalize)
    if not isinstance(found, PushPull2d):
        raise TypeError(f"layer must be (or its first convolution must be) the paper's PushPull2d, got "
                        f"{type(found).__name__}; the controls here are defined for its up-sampled pull kernel")
    return found, transform


def response_variants(layer: PushPull2d, x: Tensor, alpha: float) -> dict[str, Tensor]:
    """The four responses of one push-pull layer to ``x`` (see the module docstring), unrectified.

    Shape:
        - x: ``(N, C_in, H, W)`` (already normalised as the layer sees it); each response
          ``(N, C_out, H_out, W_out)``.

    Example:
        >>> layer = PushPull2d(1, 2, 3, padding=1)
        >>> maps = response_variants(layer, torch.rand(1, 1, 8, 8), alpha=1.0)
        >>> sorted(maps), bool((maps["pull only"] <= 0).all())
        (['pull only', 'push only', 'push-pull', 'wide conv'], True)
    """
    return _combine(layer, _branches(layer, x), check_alpha(alpha))


def _branches(layer: PushPull2d, x: Tensor) -> dict[str, Tensor]:
    """What does not depend on alpha: the rectified push and pull, and the wide control."""
    push, pull = layer.push_pull_responses(x)
    wide_kernel = upsample_kernel(layer.push.weight, layer.interp_h, layer.interp_w)  # k_up: the pull's support
    wide = F.conv2d(x, wide_kernel, layer.push.bias, layer.push.stride, layer.pull_padding, layer.push.dilation,
                    layer.push.groups)
    return {"push": push, "pull": pull, "wide": F.relu(wide)}


def _combine(layer: PushPull2d, branches: dict[str, Tensor], alpha: float) -> dict[str, Tensor]:
    push, pull = branches["push"], branches["pull"]
    return {"push-pull": layer.output_from_responses(push, pull, alpha), "push only": push,
            "pull only": -alpha * pull, "wide conv": branches["wide"]}


def _readouts(layer: PushPull2d, branches: dict[str, Tensor], alpha: float, readout: str) -> dict[str, Tensor]:
    """Each response of one unit averaged over its region, per image: ``{response: (N,)}``, from the
    unit's branch values in that region, ``(N, pixels)``."""
    maps = _combine(layer, branches, alpha)
    if readout == "rectified":
        maps = {name: F.relu(value) for name, value in maps.items()}
    return {name: value.mean(1).cpu() for name, value in maps.items()}


def preferred_stimulus(layer: nn.Module, channel: int, size: int, contrast: float = 1.0) -> Tensor:
    """The matched stimulus of one unit: its push kernel drawn on mid-grey, in [0, 1].

    The kernel's weights are scaled so that the largest ``|w|`` becomes ``0.5 * contrast`` and added
    to 0.5 at the centre of a ``size x size`` image (all input channels).

    Shape:
        - output: ``(C_in, size, size)``.

    Example:
        >>> stimulus = preferred_stimulus(PushPull2d(1, 2, 5), channel=0, size=16)
        >>> tuple(stimulus.shape), float(stimulus[0, 0, 0])
        ((1, 16, 16), 0.5)
    """
    found, _ = _pushpull_layer(layer, None)
    channel = check_channels(channel, found.out_channels, argument="channel")[0]
    contrast = check_number(contrast, "contrast", 0.0)
    size = check_int(size, "size", 1)
    kernel = found.push.weight.detach().float().cpu()[channel]
    kh, kw = kernel.shape[-2:]
    if size < max(kh, kw):
        raise ValueError(f"size must be at least the kernel size {max(kh, kw)}, got {size}")
    image = torch.full((found.in_channels if found.groups == 1 else kernel.shape[0], size, size), 0.5)
    scale = 0.5 * contrast / max(kernel.abs().max().item(), 1e-12)
    top, left = (size - kh) // 2, (size - kw) // 2
    image[:, top:top + kh, left:left + kw] += scale * kernel
    return image.clamp(0, 1)


def d_prime(signal: Tensor, noise: Tensor) -> float:
    """``(mean_s - mean_n) / sqrt((var_s + var_n) / 2)``; 0 when both are constant and equal, +-inf
    when constant and different.

    >>> d_prime(torch.tensor([2.0, 3.0]), torch.tensor([0.0, 1.0]))
    2.8284...
    """
    signal, noise = signal.double(), noise.double()
    difference = (signal.mean() - noise.mean()).item()
    spread = math.sqrt(0.5 * (signal.var(unbiased=True).item() + noise.var(unbiased=True).item()))
    if spread == 0:
        return 0.0 if difference == 0 else math.copysign(math.inf, difference)
    return difference / spread


def detectability(layer: nn.Module, noise_levels: Sequence[float], alphas: Sequence[float] = (0.0, 0.5, 1.0, 2.0),
                  channels: int | Sequence[int] | None = None, stimulus: Tensor | None = None, *,
                  corruption: str = "mnist_gaussian_noise", trials: int = 200, contrast: float = 1.0,
                  size: int | None = None, seed: int = 0, normalize: Normalization = "auto",
                  readout: str = "rectified") -> pandas.DataFrame:
    """How well each response tells its unit's preferred pattern from noise alone (see the module docstring).

    Args:
        layer: a :class:`~pushpull_viz.layers.PushPull2d` or a model whose first convolution is one
            (its input normalisation is applied, as in the model).
        noise_levels: levels of ``corruption`` (for ``"mnist_gaussian_noise"`` the variance sigma^2).
        alphas: inhibition strengths for the push-pull and pull-only responses (each >= 0).
        channels: output channels (units) to measure (default: all, at most 16).
        stimulus: one image ``(C, H, W)`` in [0, 1] used as every unit's preferred pattern (e.g. an
            edge for a hand-made edge detector); default: each unit's matched stimulus
            (:func:`preferred_stimulus`).
        corruption: a registered corruption with numeric levels, applied to images in [0, 1].
        trials: noise draws per level (signal and noise-only trials share them).
        contrast: contrast of the matched stimulus.
        size: side of the matched-stimulus image (default: 4 pull-kernel sides, at least 28).
        seed: the noise seed (the same draws for every level, alpha and response).
        normalize: input normalisation, as in :func:`~pushpull_viz.viz.features.layer_responses`.

    Returns:
        A tidy DataFrame, one row per (channel, response, alpha, noise level), with ``d_prime``,
        ``signal`` and ``noise`` (mean readouts on signal and noise-only trials), ``kept`` (the
        readout on the clean pattern relative to the push branch's) and ``noise_response`` (the
        noise-only readout relative to the push branch's); ``alpha`` is NaN for the responses that do
        not depend on it (push only, wide conv).

    Example:
        >>> from pushpull_viz.viz.stimuli import gabor_kernel, pushpull_from_kernel
        >>> layer, _ = pushpull_from_kernel(gabor_kernel(5, phase=-90))
        >>> table = detectability(layer, [0.05], alphas=[1.0], trials=32)
        >>> sorted(table["response"].unique())
        ['pull only', 'push only', 'push-pull', 'wide conv']
    """
    import pandas as pd

    found, transform = _pushpull_layer(layer, normalize)
    if readout not in ("rectified", "signed"):
        raise ValueError(f"readout must be 'rectified' or 'signed', got {readout!r}")
    alphas = [check_alpha(a, "alphas") for a in ([alphas] if isinstance(alphas, (int, float)) else alphas)]
    if not alphas or any(isinstance(a, Tensor) for a in alphas):
        raise ValueError("alphas must be a non-empty sequence of numbers >= 0")
    levels = [check_number(v, "noise_levels", 0.0) for v in noise_levels]
    if not levels:
        raise ValueError("noise_levels must not be empty")
    corruption_info(corruption)  # an unknown name fails here, listing the valid ones
    trials = check_int(trials, "trials", 2)
    picked = check_channels(channels, found.out_channels, default_max=16)
    device, dtype = found.push.weight.device, found.push.weight.dtype

    def prepare(images: Tensor) -> Tensor:
        x = images.to(device=device, dtype=dtype)
        return transform(x) if transform is not None else x

    rows = []
    for channel in picked:
        if stimulus is None:
            side = size if size is not None else max(28, 4 * max(found.pull_kernel_size))
            pattern = preferred_stimulus(found, channel, side, contrast)
        else:
            pattern = as_images(stimulus, "stimulus", channels=found.in_channels, single=True)[0][0].cpu()
        blank = torch.full_like(pattern, float(pattern.mean()))
        with torch.no_grad():
            clean_push = found.push_pull_responses(prepare(pattern[None]))[0][0, channel]
            # the zero padding makes edges at the image border: the region is chosen in the interior only
            clean_push = clean_push * interior_mask(clean_push.shape, max(found.pull_kernel_size) // 2,
                                                    clean_push.device)
            region = clean_push >= 0.5 * clean_push.max()
            if not bool(clean_push.max() > 1e-6 * found.push.weight[channel].abs().sum()):  # not float rounding
                raise ValueError(f"channel {channel} does not respond to the stimulus (its push response is 0 "
                                 "everywhere); give a stimulus it prefers")

            def unit(images: Tensor, channel: int = channel, region: Tensor = region) -> dict[str, Tensor]:
                """The unit's branch values in its region: the convolutions, once per image set."""
                return {k: v[:, channel][:, region] for k, v in _branches(found, prepare(images)).items()}

            def noisy(image: Tensor, level: float) -> Tensor:  # the same draws for pattern and blank
                repeated = image.expand(trials, *image.shape).contiguous()
                return corrupt_at_level(repeated, corruption, level, torch.Generator().manual_seed(seed))

            clean_unit, blank_unit = unit(pattern[None]), unit(blank[None])
            noisy_units = {level: (unit(noisy(pattern, level)), unit(noisy(blank, level))) for level in levels}
            for alpha in alphas:
                clean = {k: float(v[0]) for k, v in _readouts(found, clean_unit, alpha, readout).items()}
                blank_clean = {k: float(v[0]) for k, v in _readouts(found, blank_unit, alpha, readout).items()}
                for level in levels:
                    signal, noise = (_readouts(found, branches, alpha, readout) for branches in noisy_units[level])
                    for name in RESPONSES:
                        if alpha != alphas[0] and name in ("push only", "wide conv"):
                            continue  # independent of alpha: one row each
                        rows.append({
                            "channel": channel, "response": name,
                            "alpha": alpha if name in ("push-pull", "pull only") else math.nan,
                            "corruption": corruption, "noise_level": level,
                            "d_prime": d_prime(signal[name], noise[name]),
                            "signal": float(signal[name].mean()), "noise": float(noise[name].mean()),
                            "kept": clean[name] / clean["push only"] if clean["push only"] > 0 else math.nan,
                            "noise_response": (float(noise[name].mean()) / float(noise["push only"].mean())
                                               if float(noise["push only"].mean()) > 0 else math.nan),
                            "blank_response": blank_clean[name], "trials": trials, "seed": seed,
                        })
    return pd.DataFrame(rows)


def plot_detectability(table: pandas.DataFrame, alpha: float = 1.0, level: float | None = None,
                       title: str | None = None) -> Figure:
    """Two panels from :func:`detectability`: d' against the noise level (the four responses, push-pull
    and pull-only at ``alpha``), and d' against alpha at one noise level (``level``, default the
    largest), with the alpha-free responses as horizontal lines. Across several units (channels) the
    line is the median and the band spans the middle half of the units.

    Returns:
        The figure (two axes).
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    required = {"response", "alpha", "noise_level", "d_prime", "channel"}
    if not required <= set(table.columns):
        missing = sorted(required - set(table.columns))
        raise ValueError(f"table must be the output of detectability(); missing columns {missing}")
    alpha = check_number(alpha, "alpha", 0.0)
    levels = sorted(table["noise_level"].unique())
    level = levels[-1] if level is None else check_number(level, "level", 0.0)
    if level not in levels:
        raise ValueError(f"level must be one of the measured noise levels {levels}, got {level}")
    palette = sns.color_palette("colorblind", 10)
    colours = dict(zip(RESPONSES, [palette[0], palette[1], palette[2], palette[4]], strict=True))
    styles = {"push-pull": "-", "push only": "--", "pull only": ":", "wide conv": "-."}
    units = table["channel"].nunique()

    def summary(part, x):
        grouped = part.groupby(x)["d_prime"]
        return grouped.median(), grouped.quantile(0.25), grouped.quantile(0.75)

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    for name in RESPONSES:
        part = table[table["response"] == name]
        if name in ("push-pull", "pull only"):
            part = part[part["alpha"] == alpha]
        if part.empty:
            continue
        median, low, high = summary(part, "noise_level")
        left.plot(median.index, median.values, styles[name], color=colours[name], marker="o", label=name)
        if units > 1:
            left.fill_between(median.index, low.values, high.values, color=colours[name], alpha=0.15)
    left.set_xscale("log")
    corruption = table["corruption"].iloc[0]
    left.set_xlabel(f"{corruption_info(corruption).parameter} ({corruption}), log scale")
    left.set_ylabel("d' (preferred pattern vs noise only)")
    left.set_title(f"Detectability against the noise level (alpha = {alpha:g})", fontsize=10)
    left.set_ylim(bottom=min(0.0, left.get_ylim()[0]))

    at = table[table["noise_level"] == level]
    for name in ("push-pull", "pull only"):
        part = at[at["response"] == name]
        median, low, high = summary(part, "alpha")
        right.plot(median.index, median.values, styles[name], color=colours[name], marker="o", label=name)
        if units > 1:
            right.fill_between(median.index, low.values, high.values, color=colours[name], alpha=0.15)
    for name in ("push only", "wide conv"):
        value = at[at["response"] == name]["d_prime"].median()
        right.axhline(value, linestyle=styles[name], color=colours[name], label=f"{name} (no alpha)")
    right.set_xlabel("alpha (inhibition strength)")
    right.set_ylabel("d'")
    right.set_title(f"Detectability against alpha at noise level {level:g}", fontsize=10)
    right.set_ylim(bottom=min(0.0, right.get_ylim()[0]))
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)
    units_text = f"{units} units: median, band = middle half" if units > 1 else "one unit"
    fig.suptitle(title or f"Can the layer tell its preferred pattern from noise? ({units_text})", fontsize=11)
    return fig
