"""Kernel views of a first layer: push and pull kernels, the up-sampling step, spectra.

A push-pull layer (:class:`~pushpull_viz.layers.PushPull2d`) learns one kernel ``k`` per
(output, input) channel pair, the *push* kernel, and derives the *pull* kernel
``-k_up(h)`` from it: bilinear up-sampling (``align_corners=True``) to the odd size
``s_hat = floor(s * h)`` (+1 if even), then negation. The figures here show

* :func:`plot_kernels`: push kernels and their pull kernels, drawn at their true size in
  image pixels (a push kernel sits centred in a pull-sized tile), one shared symmetric
  colour scale per figure; RGB layers as an RGB composite and per input channel;
* :func:`plot_pull_upsampling`: the derivation for one kernel slice, step by step;
* :func:`plot_kernel_spectra`: the magnitude spectra of push and pull kernels and their
  orientation-averaged (radial) profiles.

They accept a :class:`PushPull2d`, an ``nn.Conv2d`` (the plain twin: no pull kernels) or a
whole model, whose first convolution :func:`first_conv` finds. The pure computations
(:func:`kernel_spectrum`, :func:`spectrum_frequencies`, :func:`radial_profile`,
:func:`kernel_montage`) return tensors; the ``plot_*`` functions return a matplotlib
``Figure`` and never call ``plt.show()``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from ..checks import check_channels, check_scale
from ..layers import (
    DEFAULT_SCALE,
    PushPull2d,
    PushPullLayer,
    first_conv,
    interpolation_matrix,
    pull_kernel_size,
    upsample_kernel,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "first_conv",
    "kernel_spectrum",
    "spectrum_frequencies",
    "radial_profile",
    "kernel_montage",
    "plot_kernels",
    "plot_pull_upsampling",
    "plot_kernel_spectra",
]

FirstLayer = PushPullLayer | nn.Conv2d
EPSILON = 1e-8  # colour range used where the data have none (all-zero kernels or maps)
DIVERGING_CMAP = "RdBu_r"
MISSING_GREY = "0.72"  # tile margins (outside a kernel) in diverging maps


# ------------------------------------------------------------------------------- layers
def _layer_kernels(layer: FirstLayer) -> tuple[Tensor, Tensor | None]:
    """``(push, pull)`` weights as detached CPU float tensors; ``pull`` is None for a plain conv."""
    with torch.no_grad():
        if isinstance(layer, PushPullLayer):
            return layer.push.weight.detach().float().cpu(), layer.pull_weight.detach().float().cpu()
        return layer.weight.detach().float().cpu(), None


def _symmetric_limit(*tensors: Tensor | None) -> float:
    """``max |x|`` over the tensors (NaN ignored), at least :data:`EPSILON`."""
    values = [t.abs().nan_to_num(0.0).max().item() for t in tensors if t is not None and t.numel()]
    limit = max(values, default=0.0)
    return limit if limit > 0 and math.isfinite(limit) else EPSILON


# ------------------------------------------------------------------------------- pure helpers
def kernel_montage(kernels: Tensor, tile: tuple[int, int] | None = None, gap: int = 1,
                   fill: float = float("nan")) -> tuple[Tensor, Tensor]:
    """Lay kernels side by side in one image, each centred in a tile of equal size.

    A push kernel placed in a pull-sized tile keeps its true extent in image pixels,
    so push and pull rows of a figure can be compared by eye. Margins and gaps hold
    ``fill`` (NaN by default, drawn in a neutral colour).

    Args:
        kernels: ``(n, kh, kw)`` or, for RGB composites, ``(n, kh, kw, 3)``.
        tile: ``(th, tw)`` tile size, at least the kernel size (default: the kernel size).
        gap: columns of ``fill`` between tiles.
        fill: value of margins and gaps.

    Returns:
        ``(montage, centres)``: the image ``(th, n * (tw + gap) - gap[, 3])`` and the x
        coordinate (column) of each tile's centre, for tick labels.

    Shape:
        - kernels: ``(n, kh, kw)`` or ``(n, kh, kw, 3)``; montage: ``(th, W[, 3])``; centres: ``(n,)``.

    Example:
        >>> image, centres = kernel_montage(torch.ones(2, 3, 3), tile=(5, 5), gap=1)
        >>> tuple(image.shape), centres.tolist(), bool(image[0, 0].isnan()), image[2, 2].item()
        ((5, 11), [2.0, 8.0], True, 1.0)
    """
    if (not isinstance(kernels, Tensor) or kernels.dim() not in (3, 4)
            or (kernels.dim() == 4 and kernels.shape[-1] != 3)):
        shape = tuple(kernels.shape) if isinstance(kernels, Tensor) else type(kernels).__name__
        raise ValueError(f"kernels must be a tensor (n, kh, kw) or (n, kh, kw, 3), got {shape}")
    if kernels.shape[0] < 1:
        raise ValueError("kernels must hold at least one kernel")
    if isinstance(gap, bool) or not isinstance(gap, int) or gap < 0:
        raise ValueError(f"gap must be an integer >= 0, got {gap!r}")
    n, kh, kw = kernels.shape[:3]
    th, tw = tile if tile is not None else (kh, kw)
    if th < kh or tw < kw:
        raise ValueError(f"tile {(th, tw)} must be at least the kernel size {(kh, kw)}")
    extra = kernels.shape[3:]
    montage = torch.full((th, n * (tw + gap) - gap, *extra), fill, dtype=torch.float32)
    top, left = (th - kh) // 2, (tw - kw) // 2
    for i in range(n):
        x0 = i * (tw + gap) + left
        montage[top:top + kh, x0:x0 + kw] = kernels[i].float().cpu()
    centres = torch.arange(n, dtype=torch.float32) * (tw + gap) + (tw - 1) / 2
    return montage, centres


def kernel_spectrum(kernel: Tensor, size: int = 64) -> Tensor:
    """Magnitude spectrum ``|FFT2(kernel)|`` of kernels zero-padded to ``size x size``, fftshifted.

    The zero frequency (DC) is at index ``size // 2`` of both axes after the shift;
    :func:`spectrum_frequencies` gives the frequency of each index in cycles/pixel.
    Zero-padding only samples the kernel's continuous spectrum more densely; where the
    kernel sits in the padded frame changes the phase only, not the magnitude.

    Args:
        kernel: ``(..., kh, kw)``, real; leading dimensions (output, input channels) are kept.
        size: FFT size per axis, at least the kernel's larger side.

    Returns:
        The magnitudes, float (float64 for float64 input), shape ``(..., size, size)``.

    Shape:
        - kernel: ``(..., kh, kw)``; output: ``(..., size, size)``.

    Example:
        >>> delta = torch.zeros(3, 3); delta[1, 1] = 1
        >>> spectrum = kernel_spectrum(delta, size=8)
        >>> spectrum.shape, bool(torch.allclose(spectrum, torch.ones(8, 8)))
        (torch.Size([8, 8]), True)
        >>> kernel_spectrum(torch.ones(3, 3), size=8)[4, 4].item()  # the DC value: the kernel's sum
        9.0
    """
    if not isinstance(kernel, Tensor):
        raise TypeError(f"kernel must be a torch.Tensor (..., kh, kw), got {type(kernel).__name__}")
    if kernel.dim() < 2:
        raise ValueError(f"kernel must have at least 2 dimensions (..., kh, kw), got shape {tuple(kernel.shape)}")
    if kernel.is_complex():
        raise TypeError("kernel must be real-valued")
    if isinstance(size, bool) or not isinstance(size, int) or size < max(kernel.shape[-2:]):
        raise ValueError(f"size must be an integer >= the kernel's side {max(kernel.shape[-2:])}, got {size!r}")
    real = kernel if kernel.dtype in (torch.float32, torch.float64) else kernel.float()
    spectrum = torch.fft.fft2(real, s=(size, size)).abs()
    return torch.fft.fftshift(spectrum, dim=(-2, -1))


def spectrum_frequencies(size: int = 64) -> Tensor:
    """Frequencies (cycles/pixel) of the indices of a :func:`kernel_spectrum` axis.

    Example:
        >>> spectrum_frequencies(4).tolist()
        [-0.5, -0.25, 0.0, 0.25]
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    return torch.fft.fftshift(torch.fft.fftfreq(size))


def radial_profile(spectrum: Tensor) -> tuple[Tensor, Tensor]:
    """Orientation-averaged (radial) profile of a centred ``size x size`` spectrum.

    Each frequency sample ``(f_y, f_x)`` goes to the radius bin ``round(size * |f|)``;
    bins ``0 .. size // 2`` (radii 0 to 0.5 cycles/pixel) are averaged, the corners
    beyond 0.5 cycles/pixel are left out (not every orientation reaches them).

    Args:
        spectrum: ``(..., size, size)`` as from :func:`kernel_spectrum` (DC at ``size // 2``).

    Returns:
        ``(radii, profile)``: radii ``(size // 2 + 1,)`` in cycles/pixel and the mean
        magnitude per radius, ``(..., size // 2 + 1)``.

    Shape:
        - spectrum: ``(..., size, size)``; profile: ``(..., size // 2 + 1)``.

    Example:
        >>> radii, profile = radial_profile(torch.ones(8, 8))
        >>> radii.tolist(), profile.tolist()
        ([0.0, 0.125, 0.25, 0.375, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0])
    """
    if not isinstance(spectrum, Tensor) or spectrum.dim() < 2 or spectrum.shape[-1] != spectrum.shape[-2]:
        shape = tuple(spectrum.shape) if isinstance(spectrum, Tensor) else type(spectrum).__name__
        raise ValueError(f"spectrum must be a tensor (..., size, size), got {shape}")
    size = spectrum.shape[-1]
    freqs = spectrum_frequencies(size).to(torch.float64)
    radius = torch.sqrt(freqs[:, None] ** 2 + freqs[None, :] ** 2)
    bins = torch.round(radius * size).long().flatten()
    count = size // 2 + 1
    keep = bins < count
    onehot = torch.zeros(size * size, count, dtype=torch.float64)
    onehot[torch.nonzero(keep).flatten(), bins[keep]] = 1.0
    onehot /= onehot.sum(0, keepdim=True)
    flat = spectrum.reshape(*spectrum.shape[:-2], size * size).to(torch.float64)
    profile = (flat @ onehot).to(spectrum.dtype if spectrum.is_floating_point() else torch.float32)
    radii = torch.arange(count, dtype=torch.float32) / size
    return radii, profile


# ------------------------------------------------------------------------------- figures
def _rgb_composite(kernels: Tensor, limit: float) -> Tensor:
    """``(n, 3, kh, kw)`` weights -> ``(n, kh, kw, 3)`` colours ``0.5 + w / (2 limit)`` in [0, 1]."""
    return (0.5 + kernels.permute(0, 2, 3, 1) / (2 * limit)).clamp(0, 1)


def _describe(layer: FirstLayer) -> str:
    if isinstance(layer, PushPullLayer) and not isinstance(layer, PushPull2d):
        return f"{type(layer).__name__} ({layer.variant} variant), {layer.in_channels}->{layer.out_channels}"
    if isinstance(layer, PushPull2d):
        alpha = "learned" if isinstance(layer.alpha, Tensor) else f"{layer.alpha:g}"
        return f"PushPull2d {layer.in_channels}->{layer.out_channels}, h={layer.scale:g}, alpha={alpha}"
    return f"plain Conv2d {layer.in_channels}->{layer.out_channels} (no pull kernel)"


def plot_kernels(layer: nn.Module, channels: int | Sequence[int] | None = None, *,
                 max_input_channels: int = 8, title: str | None = None) -> Figure:
    """Push kernels and their derived pull kernels, side by side, on one symmetric colour scale.

    One row per kernel kind, one tile per output channel. Every tile is as large as a
    pull kernel, so a push kernel appears at its true size in image pixels (grey
    margin around it). All diverging panels share one colour scale, symmetric about 0
    (``RdBu_r``: red positive, blue negative) with one colourbar. For an RGB layer each
    kernel is shown as an RGB composite (``0.5 + w / (2 m)`` with ``m`` the largest
    ``|w|`` over the whole figure, so mid-grey is 0 and colours are comparable across
    tiles) and per input channel; for a grayscale layer as one map. For other input
    counts, one row per input channel (the first ``max_input_channels``).

    Args:
        layer: a ``PushPull2d``, an ``nn.Conv2d`` (then only push rows) or a model
            (its :func:`first_conv`).
        channels: output channels to show (an int, a sequence, or None for all).
        max_input_channels: most per-input-channel rows for layers that are neither 1- nor 3-channel.
        title: figure title (default: a description of the layer).

    Returns:
        The figure: one axes per row plus one colourbar axes.

    Example:
        >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
        >>> fig = plot_kernels(PushPull2d(1, 4, 5, scale=2))
        >>> [ax.get_ylabel() for ax in fig.axes[:2]]
        ['push k\\n(5x5)', 'pull -k_up\\n(11x11)']
        >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    layer = first_conv(layer)
    push, pull = _layer_kernels(layer)
    out_channels, in_channels = push.shape[:2]
    picked = check_channels(channels, out_channels)
    if isinstance(max_input_channels, bool) or not isinstance(max_input_channels, int) or max_input_channels < 1:
        raise ValueError(f"max_input_channels must be a positive integer, got {max_input_channels!r}")
    push = push[picked]
    pull = pull[picked] if pull is not None else None
    limit = _symmetric_limit(push, pull)
    sizes = [push.shape[-2:]] + ([pull.shape[-2:]] if pull is not None else [])
    tile = (max(s[0] for s in sizes), max(s[1] for s in sizes))

    # rows: (label, image, is_rgb)
    rows: list[tuple[str, Tensor, bool]] = []
    kinds = [("push k", push)]
    if pull is not None:
        kinds.append(("pull -k_up" if layer.variant == "2020" else "pull", pull))
    input_names = {1: [""], 3: ["R", "G", "B"]}.get(
        in_channels, [f"in {i}" for i in range(min(in_channels, max_input_channels))])
    for name, weights in kinds:
        size = "x".join(str(s) for s in weights.shape[-2:])
        if in_channels == 3:
            composite = kernel_montage(_rgb_composite(weights, limit), tile, fill=1.0)[0]
            rows.append((f"{name}\nRGB ({size})", composite, True))
        for i, input_name in enumerate(input_names):
            label = f"{name}\n{input_name}" if input_name else f"{name}\n({size})"
            rows.append((label, kernel_montage(weights[:, i], tile)[0], False))
    centres = kernel_montage(push[:, 0], tile)[1]

    montage_width = rows[0][1].shape[1]
    width = min(16.0, max(5.0, 1.6 + 0.32 * montage_width / max(tile[1], 1) * 1.9))
    row_height = max(0.55, (width - 1.6) * tile[0] / montage_width)
    fig, axes = plt.subplots(len(rows), 1, figsize=(width, 0.9 + row_height * len(rows) * 1.15),
                             squeeze=False, layout="constrained")
    cmap = plt.get_cmap(DIVERGING_CMAP).with_extremes(bad=MISSING_GREY)
    mappable = None
    for ax, (label, image, is_rgb) in zip(axes[:, 0], rows, strict=True):
        if is_rgb:
            ax.imshow(image.numpy(), interpolation="nearest")
        else:
            mappable = ax.imshow(image.numpy(), cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_yticks([])
        ax.set_xticks(centres.tolist(), [str(c) for c in picked], fontsize=8)
        ax.tick_params(length=0)
    axes[-1, 0].set_xlabel("output channel")
    colourbar = fig.colorbar(mappable, ax=axes[:, 0].tolist(), shrink=min(1.0, 4.0 / len(rows) + 0.3),
                             fraction=0.03, pad=0.01)
    colourbar.set_label("kernel weight (shared, symmetric)", fontsize=8)
    note = "tile = pull-kernel size: a push kernel appears at its true size (grey/white margin)"
    if in_channels == 3:
        note += "; RGB: 0.5 + w/(2 max|w|), mid-grey = 0"
    fig.suptitle(f"{title or _describe(layer)}\n{note}", fontsize=9)
    return fig


def plot_pull_upsampling(layer: nn.Module, out_channel: int = 0, in_channel: int = 0,
                         scale: float | None = None) -> Figure:
    """How one pull kernel slice is derived: push ``k`` -> bilinear up-sampled ``k_up`` -> ``-k_up``.

    The three panels are drawn in image-pixel coordinates with equal axis limits, so
    the growth from ``s x s`` to ``s_hat x s_hat`` is visible; they share one symmetric
    colour scale and colourbar. Values are written in when the pull kernel is at most 7x7. The
    title states the size rule (``s_hat = floor(s * h)``, +1 if even).

    Args:
        layer: a 2020-variant ``PushPull2d``, an ``nn.Conv2d`` or a model (its :func:`first_conv`).
        out_channel, in_channel: the kernel slice ``weight[out_channel, in_channel]``.
        scale: ``h``; default the layer's own, or 2 (the paper's value) for a plain conv.

    Returns:
        The figure (three panels and a colourbar).

    Example:
        >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
        >>> fig = plot_pull_upsampling(PushPull2d(1, 2, 5, scale=2))
        >>> fig.texts[0].get_text().splitlines()[0]
        'h=2: 5x5 -> 11x11'
        >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    layer = first_conv(layer)
    if isinstance(layer, PushPullLayer) and not isinstance(layer, PushPull2d):
        raise ValueError(f"plot_pull_upsampling shows the 2020 layer's up-sampling; this {type(layer).__name__} is "
                         f"the {layer.variant} variant, whose pull kernel is -k + max(k) + min(k) at the push size")
    push, _ = _layer_kernels(layer)
    out_channels, in_channels, kh, kw = push.shape
    out_channel = check_channels(out_channel, out_channels, argument="out_channel")[0]
    in_channel = check_channels(in_channel, in_channels, argument="in_channel")[0]
    scale = check_scale((layer.scale if isinstance(layer, PushPull2d) else DEFAULT_SCALE) if scale is None else scale)
    kh_hat, kw_hat = pull_kernel_size(kh, scale), pull_kernel_size(kw, scale)
    kernel = push[out_channel, in_channel]
    up = upsample_kernel(kernel, interpolation_matrix(kh, kh_hat), interpolation_matrix(kw, kw_hat))
    panels = [(f"1. push k ({kh}x{kw})", kernel), (f"2. bilinear up-sampling: k_up ({kh_hat}x{kw_hat})", up),
              (f"3. negation: pull -k_up ({kh_hat}x{kw_hat})", -up)]
    limit = _symmetric_limit(kernel, up)
    half_h, half_w = kh_hat / 2, kw_hat / 2

    fig, axes = plt.subplots(1, 3, figsize=(10.5, 4.0), layout="constrained")
    annotate = max(kh_hat, kw_hat) <= 7  # cells wide enough (~0.35 in) for a 2-decimal value
    mappable = None
    for ax, (label, values) in zip(axes, panels, strict=True):
        h, w = values.shape
        extent = (-w / 2, w / 2, h / 2, -h / 2)
        mappable = ax.imshow(values.numpy(), cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, extent=extent,
                             interpolation="nearest")
        ax.set_xlim(-half_w - 0.5, half_w + 0.5)
        ax.set_ylim(half_h + 0.5, -half_h - 0.5)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("x (image pixels)")
        if annotate:
            for (r, c), v in zip(((r, c) for r in range(h) for c in range(w)), values.flatten().tolist(), strict=True):
                ax.text(c - w / 2 + 0.5, r - h / 2 + 0.5, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(v) > 0.6 * limit else "black")
    axes[0].set_ylabel("y (image pixels)")
    colourbar = fig.colorbar(mappable, ax=axes.tolist(), fraction=0.03, pad=0.01)
    colourbar.set_label("weight (shared, symmetric)")
    rule = f"h={scale:g}: {kh}x{kw} -> {kh_hat}x{kw_hat}"
    source = "" if isinstance(layer, PushPull2d) else " (plain conv: the pull kernel a push-pull layer would derive)"
    fig.suptitle(f"{rule}\nkernel [out {out_channel}, in {in_channel}]: s_hat = floor(s*h), +1 if even; "
                 f"bilinear, align_corners=True, then negated (no renormalisation){source}", fontsize=9)
    return fig


def plot_kernel_spectra(layer: nn.Module, channels: int | Sequence[int] | None = None, size: int = 64,
                        input_channel: int | None = None, db_range: float | None = 40.0) -> Figure:
    """Magnitude spectra of push and pull kernels, and their radial (orientation-averaged) profiles.

    Row 1: ``|FFT|`` of the push kernel (zero-padded to ``size x size``, fftshifted, axes
    in cycles/pixel); row 2: the same for the pull kernel; row 3: both radial profiles
    (mean magnitude over all orientations at each radial frequency, :func:`radial_profile`).
    Columns are output channels (default: the first 8). Multi-channel kernels are
    combined as the root-sum-square over input channels, ``sqrt(sum_c |F_c|^2)``,
    unless ``input_channel`` picks one slice. All 2-D spectra share one colour scale and
    one colourbar: by default in decibels, ``20 log10 |H|``, from the largest value down
    by ``db_range`` dB, because the pull kernel (about ``h^2`` times as many taps of the
    same size) has a much larger gain than the push kernel and would leave the push
    spectra dark on a linear scale; ``db_range=None`` gives linear magnitudes. The pull
    kernel, an up-sampled push kernel, passes roughly the push kernel's band compressed
    by ``1/h``. The radial profiles are always linear magnitudes.

    Args:
        layer: a ``PushPull2d``, an ``nn.Conv2d`` (no pull row) or a model (its :func:`first_conv`).
        channels: output channels (int, sequence or None for the first 8).
        size: FFT size per axis.
        input_channel: one input channel instead of the root-sum-square over all.
        db_range: dynamic range of the decibel colour scale, or None for linear magnitudes.

    Returns:
        The figure.

    Example:
        >>> import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
        >>> fig = plot_kernel_spectra(PushPull2d(1, 2, 3), size=16)
        >>> len(fig.axes)  # 2 channels x (push, pull, profile) + colourbar
        7
        >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    layer = first_conv(layer)
    push, pull = _layer_kernels(layer)
    out_channels, in_channels = push.shape[:2]
    picked = check_channels(channels, out_channels, default_max=8)
    if input_channel is not None and (isinstance(input_channel, bool) or not isinstance(input_channel, int)
                                      or not 0 <= input_channel < in_channels):
        raise ValueError(f"input_channel must be None or an integer in 0..{in_channels - 1}, got {input_channel!r}")

    def spectra(weights: Tensor) -> Tensor:
        spectrum = kernel_spectrum(weights[picked], size)  # (n, in, size, size)
        if input_channel is not None:
            return spectrum[:, input_channel]
        return spectrum.pow(2).sum(1).sqrt()

    if db_range is not None and (isinstance(db_range, bool) or not isinstance(db_range, (int, float))
                                 or not math.isfinite(db_range) or db_range <= 0):
        raise ValueError(f"db_range must be a positive number of decibels or None (linear), got {db_range!r}")
    pull_label = "pull -k_up" if isinstance(layer, PushPull2d) else "pull"
    rows = [("push k", spectra(push))] + ([(pull_label, spectra(pull))] if pull is not None else [])
    vmax = max(max(s.max().item() for _, s in rows), EPSILON)
    if db_range is None:
        vmin, shown, bar_label = 0.0, [s for _, s in rows], "|H(f)| (shared, linear)"
    else:
        vmax = 20 * math.log10(vmax)
        vmin = vmax - db_range
        shown = [20 * torch.log10(s.clamp_min(EPSILON)) for _, s in rows]
        bar_label = "20 log10 |H(f)| in dB (shared)"
    freqs = spectrum_frequencies(size)
    step = 1.0 / size
    extent = (freqs[0].item() - step / 2, freqs[-1].item() + step / 2, freqs[-1].item() + step / 2,
              freqs[0].item() - step / 2)
    n = len(picked)
    fig, axes = plt.subplots(len(rows) + 1, n, figsize=(max(5.0, 1.75 * n + 1.3), 1.8 * (len(rows) + 1) + 0.9),
                             squeeze=False, layout="constrained")
    mappable = None
    for r, ((label, _), spectrum) in enumerate(zip(rows, shown, strict=True)):
        for j, channel in enumerate(picked):
            ax = axes[r, j]
            mappable = ax.imshow(spectrum[j].numpy(), cmap="viridis", vmin=vmin, vmax=vmax, extent=extent,
                                 interpolation="nearest")
            ax.set_xticks([-0.5, 0, 0.5])
            ax.set_yticks([-0.5, 0, 0.5])
            ax.tick_params(labelsize=7)
            if r == 0:
                ax.set_title(f"ch {channel}", fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{label}\nf_y (cyc/px)", fontsize=8)
            else:
                ax.set_yticklabels([])
            if r == len(rows) - 1:
                ax.set_xlabel("f_x (cyc/px)", fontsize=8)
            else:
                ax.set_xticklabels([])
    colourbar = fig.colorbar(mappable, ax=axes[:len(rows)].flatten().tolist(), fraction=0.03, pad=0.01)
    colourbar.set_label(bar_label, fontsize=8)
    profile_max = 0.0
    for j in range(n):
        ax = axes[-1, j]
        for (label, spectrum), style in zip(rows, ("-", "--"), strict=False):
            radii, profile = radial_profile(spectrum[j])
            ax.plot(radii.numpy(), profile.numpy(), style, label=label.split(" ")[0])
            profile_max = max(profile_max, profile.max().item())
        ax.set_xlabel("|f| (cyc/px)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlim(0, 0.5)
        if j == 0:
            ax.set_ylabel("radial mean |H|\n(linear)", fontsize=8)
            ax.legend(fontsize=8, loc="upper right")
    for ax in axes[-1]:
        ax.set_ylim(0, max(profile_max, EPSILON) * 1.05)
    combine = f"input channel {input_channel}" if input_channel is not None else (
        "root-sum-square over input channels" if in_channels > 1 else "single input channel")
    fig.suptitle(f"Magnitude spectra ({size}x{size} zero-padded FFT, DC at centre), {combine}\n"
                 f"{_describe(layer)}", fontsize=9)
    return fig
