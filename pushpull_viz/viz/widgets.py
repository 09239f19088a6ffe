"""Interactive explorers (ipywidgets) for the push-pull layer and for corrupted images.

Two layers, kept apart so that the computation is testable without widgets:

* **Frames** - pure computation, no widgets, no figures: :func:`pushpull_frame` (a layer's
  push, pull and output maps for one alpha, scale h and noise level) with its caching form
  :class:`PushPullFrames`, and :func:`corruption_frame` (a corrupted image and every model's
  class probabilities) with :class:`CorruptionFrames`.
* **Explorers** - :func:`pushpull_explorer` and :func:`corruption_explorer` return an
  ``ipywidgets.VBox`` (display it as a notebook cell's last value) holding sliders and the figure.

How the figure is redrawn (and why it works in JupyterLab without ``ipympl`` and in headless
``nbmake`` runs): each explorer owns **one** matplotlib ``Figure`` on an Agg canvas, made once and
never registered with ``pyplot`` (so the inline backend never shows a stray copy and nothing
leaks). A slider change updates the existing artists in place (``AxesImage.set_data`` /
``set_clim``, bar widths, text), draws the canvas once and sends the pixels, PNG-encoded, to an
``ipywidgets.Image`` in the box. The browser swaps the picture: no new figure, no flicker from
``clear_output``, no ``%matplotlib widget``. In a kernel-less run (tests, ``nbmake``) the same
code runs; the PNG simply goes nowhere. ``explorer.figure`` is the live figure (e.g. to
``savefig`` a state) and ``explorer.update(...)`` moves the sliders from code.

Costs are kept to the changed part (the slider-step target of ``benchmarks/bench_widgets.py``):
the push and pull maps do not depend on alpha, so an alpha step is ``push - alpha * pull`` on
cached arrays; noisy inputs are cached per (level, seed) and responses per (level, seed, h).

Example (headless):
    >>> import torch
    >>> from pushpull_viz.layers import PushPull2d
    >>> layer = PushPull2d(1, 6, 5)
    >>> frame = pushpull_frame(layer, torch.rand(1, 28, 28), alpha=1.0, scale=2.0, noise_level=0.1)
    >>> sorted(frame), frame["push"].shape, frame["input"].shape
    (['conv', 'input', 'output', 'pull', 'push'], (6, 24, 24), (28, 28))
"""

from __future__ import annotations

import io
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor, nn

from ..checks import as_images, check_channels, check_int, check_number, check_severity
from ..corruptions import (
    corrupt,
    corrupt_at_level,
    corruption_generator,
    corruption_info,
    corruption_level,
    resolve_corruptions,
)
from ..layers import DEFAULT_ALPHA, DEFAULT_SCALE, PushPull2d, PushPullLayer, named_first_conv, pull_geometry
from .features import robust_limit

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "CorruptionExplorer",
    "CorruptionFrames",
    "PushPullExplorer",
    "PushPullFrames",
    "corruption_explorer",
    "corruption_frame",
    "explorer_limits",
    "pushpull_explorer",
    "pushpull_frame",
]

Normalization = tuple[Sequence[float], Sequence[float]]


# ------------------------------------------------------------------------------------ checks
def _as_image(image: Any, channels: int | None, argument: str = "image") -> Tensor:
    """One image as a float CPU tensor ``(1, C, H, W)`` in [0, 1] (:func:`pushpull_viz.checks.as_images`)."""
    return as_images(image, argument, channels=channels, single=True)[0].cpu().float()


def _display(image: Tensor) -> np.ndarray:
    """``(1, C, H, W)`` -> ``(H, W)`` (grey) or ``(H, W, 3)``, float32 in [0, 1]."""
    array = image[0].detach().cpu().float().numpy()
    return array[0] if array.shape[0] == 1 else np.ascontiguousarray(array.transpose(1, 2, 0))


def _resolve_layer(layer: nn.Module) -> tuple[PushPullLayer, Normalization | None]:
    """A push-pull layer, or a model's first layer (which must be one) together with the model's
    input normalisation (a ``Normalize`` module met before it)."""
    if isinstance(layer, PushPullLayer):
        return layer, None
    if not isinstance(layer, nn.Module):
        raise TypeError(f"layer must be a PushPull2d (or a model containing one), got {type(layer).__name__}")
    from .features import model_normalization

    name, first = named_first_conv(layer)
    if not isinstance(first, PushPullLayer):
        where = f"the first convolution of the {type(layer).__name__} ({name})" if name else "this layer"
        raise ValueError(f"layer: {where} is a plain {type(first).__name__}, not a push-pull layer; build the model "
                         "with pushpull=True or pass a PushPull2d")
    found = model_normalization(layer)
    normalize = None if found is None else (found.mean.flatten().tolist(), found.std.flatten().tolist())
    return first, normalize


def _weights_key(layer: PushPullLayer) -> tuple[bytes, ...]:
    """The layer's parameters as bytes: a cache key that changes whenever any weight does, however it
    was changed (optimizer step, ``.data`` copy, ``load_state_dict``); a first layer is a few kB."""
    return tuple(p.detach().cpu().numpy().tobytes() for p in layer.parameters())


def _scalar_levels(corruption: str) -> tuple[float, ...]:
    info = corruption_info(corruption)  # raises on an unknown name
    if not all(isinstance(level, Real) and not isinstance(level, bool) for level in info.levels):
        raise ValueError(f"corruption {corruption!r} has levels {info.levels[:2]}...: the noise slider needs a "
                         "corruption whose level is one number, e.g. 'mnist_gaussian_noise' (variance), "
                         "'gaussian_noise' (sigma), 'speckle_noise' or 'impulse_noise'")
    return tuple(float(level) for level in info.levels)


@contextmanager
def _one_thread():
    """Run torch on one CPU thread for the duration. One image is far too small a job to split
    across OpenMP threads: on a busy machine the threads' spin-waits cost far more than the work
    (docs/benchmarks.md, "One image, one thread")."""
    previous = torch.get_num_threads()
    if previous != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if previous != 1:
            torch.set_num_threads(previous)


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_or(self, key, make: Callable[[], Any]):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        while len(self) > self.size:
            self.popitem(last=False)
        return value


# ------------------------------------------------------------------------------------ frames
class PushPullFrames:
    """The pure computation behind :func:`pushpull_explorer`, with caches.

    ``frames(alpha, scale, noise_level)`` gives the same dict as :func:`pushpull_frame`.
    Noisy inputs are cached per ``(noise_level, seed)``; push, pull and plain-conv maps per
    ``(noise_level, seed, scale)`` (and the layer's weights); the output ``push - alpha * pull``
    is the only thing computed for an alpha change. The layer is never modified: another ``scale``
    is passed to the functional core (:meth:`PushPull2d.push_pull_responses`).

    The noise of a given ``seed`` is one draw, scaled by the level: moving the noise slider
    makes the same noise pattern stronger instead of drawing a new one.

    Args:
        layer: a :class:`~pushpull_viz.layers.PushPull2d`, or a model holding one (its first
            one is used, behind the model's ``Normalize`` if it has one).
        image: one image ``(C, H, W)`` or ``(H, W)``, uint8 or float in [0, 1], with the
            layer's ``in_channels``.
        corruption: the noise: a registered corruption whose level is a number
            (:func:`pushpull_viz.corruptions.corruption_info`); ``noise_level`` is passed to
            its function as the level (for ``"mnist_gaussian_noise"`` the variance
            sigma^2 on [0, 1] images). Level 0 means the clean image.
        seed: default noise seed.
        normalize: ``(mean, std)`` per channel applied before the layer (default: the model's
            own normalisation if ``layer`` is a model, else none).
        cache_size: how many noisy inputs and response sets to keep.

    Example:
        >>> from pushpull_viz.layers import PushPull2d
        >>> frames = PushPullFrames(PushPull2d(3, 16, 3, padding=1), torch.rand(3, 32, 32))
        >>> a, b = frames(1.0, 2.0, 0.05), frames(0.0, 2.0, 0.05)
        >>> a["output"].shape, bool((b["output"] >= a["output"]).all())
        ((16, 32, 32), True)
    """

    def __init__(self, layer: nn.Module, image: Any, corruption: str = "mnist_gaussian_noise", seed: int = 0,
                 normalize: Normalization | None = None, cache_size: int = 64) -> None:
        self.layer, found = _resolve_layer(layer)
        self.image = _as_image(image, self.layer.in_channels)
        self.levels = _scalar_levels(corruption)
        self.corruption = corruption
        self.seed = self._seed(seed)
        normalize = normalize if normalize is not None else found
        if normalize is not None:
            mean, std = (torch.as_tensor(v, dtype=torch.float32).view(1, -1, 1, 1) for v in normalize)
            if mean.shape[1] not in (1, self.image.shape[1]) or std.shape != mean.shape or (std <= 0).any():
                raise ValueError(f"normalize must be (mean, std) with one value per channel ({self.image.shape[1]}) "
                                 f"and std > 0, got {normalize!r}")
            self._normalize = (mean, std)
        else:
            self._normalize = None
        self._noisy = _LRU(cache_size)
        self._responses = _LRU(cache_size)

    @staticmethod
    def _seed(seed: Any) -> int:
        return check_int(seed, "seed")

    def noisy(self, noise_level: float, seed: int | None = None) -> Tensor:
        """The corrupted image ``(1, C, H, W)`` in [0, 1] (cached)."""
        level = check_number(noise_level, "noise_level", 0.0, f"level of {self.corruption}")
        seed = self.seed if seed is None else self._seed(seed)
        return self._noisy.get_or((level, seed), lambda: self._corrupt(level, seed))

    def _corrupt(self, level: float, seed: int) -> Tensor:
        if level == 0:
            return self.image
        with _one_thread():
            return corrupt_at_level(self.image, self.corruption, level, corruption_generator(seed, self.corruption))

    def responses(self, noise_level: float, scale: float, seed: int | None = None) -> dict[str, Tensor]:
        """``{"push", "pull", "conv"}`` maps ``(C_out, H', W')`` for one noise level and scale (cached
        per level, seed, scale and the layer's current weights)."""
        scale = check_number(scale, "scale", 1.0, "h, pull/push kernel size ratio")
        level = check_number(noise_level, "noise_level", 0.0, f"level of {self.corruption}")
        seed = self.seed if seed is None else self._seed(seed)
        key = (level, seed, scale, _weights_key(self.layer))
        return self._responses.get_or(key, lambda: self._compute(self.noisy(level, seed), scale))

    def _compute(self, noisy: Tensor, scale: float) -> dict[str, Tensor]:
        layer = self.layer
        parameter = next(layer.parameters())
        x = noisy
        if self._normalize is not None:
            x = (x - self._normalize[0]) / self._normalize[1]
        x = x.to(device=parameter.device, dtype=parameter.dtype)
        with torch.inference_mode(), _one_thread():
            # the layer is never changed: another h is an argument of the functional core
            push, pull = layer.push_pull_responses(x, scale) if isinstance(layer, PushPull2d) else \
                layer.push_pull_responses(x)
            conv = layer.push(x)
        return {"push": push[0], "pull": pull[0], "conv": conv[0]}

    def __call__(self, alpha: float, scale: float, noise_level: float,
                 seed: int | None = None) -> dict[str, np.ndarray]:
        """One frame; see :func:`pushpull_frame`."""
        alpha = check_number(alpha, "alpha", 0.0, "inhibition strength")
        maps = self.responses(noise_level, scale, seed)
        with torch.inference_mode():
            output = self.layer.output_from_responses(maps["push"], maps["pull"], alpha)
        arrays = {key: value.float().cpu().numpy() for key, value in {**maps, "output": output}.items()}
        return {"input": _display(self.noisy(noise_level, seed)), **arrays}


def pushpull_frame(layer: nn.Module, image: Any, alpha: float, scale: float, noise_level: float,
                   corruption: str = "mnist_gaussian_noise", seed: int = 0,
                   normalize: Normalization | None = None) -> dict[str, np.ndarray]:
    """What a push-pull layer computes on one (noisy) image, map by map.

    ``output = ReLU(k * x) - alpha * ReLU(-k_up(h) * x) = push - alpha * pull``.

    Args:
        layer: a :class:`~pushpull_viz.layers.PushPull2d` (or a model holding one, see
            :class:`PushPullFrames`). Its ``scale`` is left as it was.
        image: one image ``(C, H, W)`` or ``(H, W)``, uint8 or float in [0, 1], with the layer's
            ``in_channels``.
        alpha: inhibition strength, >= 0 (replaces the layer's own alpha).
        scale: h, >= 1 (pull kernel side = odd(floor(h * s))).
        noise_level: level of ``corruption`` (0 = the clean image); for the default
            ``"mnist_gaussian_noise"`` the noise variance sigma^2 on [0, 1] images.
        corruption: a registered corruption with numeric levels.
        seed: the noise seed (same seed, same noise).
        normalize: ``(mean, std)`` applied before the layer (see :class:`PushPullFrames`).

    Returns:
        A dict of float32 NumPy arrays: ``"input"`` the noisy image in [0, 1]; ``"push"``
        ``ReLU(k * x)``, ``"pull"`` ``ReLU(-k_up * x)``, ``"output"`` ``push - alpha * pull``
        and ``"conv"`` the plain convolution ``k * x`` (what an ordinary conv layer with the
        same weights gives, before its ReLU).

    Shape:
        - image: ``(C, H, W)`` or ``(H, W)``
        - ``"input"``: ``(H, W)`` for one channel, ``(H, W, 3)`` for three
        - ``"push"``, ``"pull"``, ``"output"``, ``"conv"``: ``(C_out, H_out, W_out)``

    Example:
        >>> from pushpull_viz.layers import PushPull2d
        >>> layer, image = PushPull2d(1, 6, 5), torch.rand(28, 28)
        >>> f = pushpull_frame(layer, image, alpha=0.0, scale=2.0, noise_level=0.0)
        >>> bool((f["output"] == f["push"]).all()), bool((f["push"] == f["conv"].clip(min=0)).all())
        (True, True)
    """
    return PushPullFrames(layer, image, corruption, seed, normalize, cache_size=4)(alpha, scale, noise_level)


class CorruptionFrames:
    """The pure computation behind :func:`corruption_explorer`, cached per (corruption, severity, seed).

    Args:
        models: ``{name: model}`` (or one model), each taking images in [0, 1] ``(N, C, H, W)``
            and returning class scores ``(N, K)``. They are run in eval mode (their mode is
            restored afterwards) under ``torch.inference_mode``.
        image: one image ``(C, H, W)``, uint8 or float in [0, 1]. uint8 images are corrupted
            as uint8 (as :func:`pushpull_viz.robustness.evaluate` does).
        seed: default noise seed.
        cache_size: how many frames to keep.

    Example:
        >>> frames = CorruptionFrames({"lin": nn.Sequential(nn.Flatten(), nn.Linear(4, 3))}, torch.rand(1, 2, 2))
        >>> f = frames("clean", 0)
        >>> f["image"].shape, f["probabilities"]["lin"].shape
        ((2, 2), (3,))
    """

    def __init__(self, models: nn.Module | Mapping[str, nn.Module], image: Any, seed: int = 0,
                 cache_size: int = 64) -> None:
        if isinstance(models, nn.Module):
            models = {getattr(models, "model_name", type(models).__name__): models}
        if not isinstance(models, Mapping) or not models:
            raise ValueError("models must be a non-empty mapping {name: model} or one model")
        bad = [name for name, model in models.items() if not isinstance(model, nn.Module)]
        if bad:
            raise TypeError(f"models: {bad} are not torch modules")
        self.models = dict(models)
        if isinstance(image, np.ndarray):
            image = torch.from_numpy(np.ascontiguousarray(image))
        _as_image(image, None)  # checks shape, dtype and range
        image = image.detach().cpu()
        self.image = image[None] if image.dim() == 3 else image[None, None] if image.dim() == 2 else image
        self.seed = PushPullFrames._seed(seed)
        self._cache = _LRU(cache_size)

    def __call__(self, corruption: str, severity: int, seed: int | None = None) -> dict[str, Any]:
        """One frame; see :func:`corruption_frame`."""
        seed = self.seed if seed is None else PushPullFrames._seed(seed)
        if corruption == "clean" or severity == 0:
            key = ("clean", 0, 0)
        else:
            severities = (0, *corruption_info(corruption).severities)
            key = (corruption, check_severity(severity, severities, what=f"{corruption!r} (0: clean)"), seed)
        return self._cache.get_or(key, lambda: self._compute(*key))

    def _compute(self, corruption: str, severity: int, seed: int) -> dict[str, Any]:
        with _one_thread():
            return self._compute_one_thread(corruption, severity, seed)

    def _compute_one_thread(self, corruption: str, severity: int, seed: int) -> dict[str, Any]:
        image = self.image
        if corruption != "clean":
            image = corrupt(image, corruption, severity, corruption_generator(seed, corruption, severity))
        x = image.float() / 255 if image.dtype == torch.uint8 else image.float()
        probabilities = {}
        for name, model in self.models.items():
            parameter = next(model.parameters(), None)
            device = parameter.device if parameter is not None else torch.device("cpu")
            training = model.training
            model.eval()
            try:
                with torch.inference_mode():
                    logits = model(x.to(device))
            finally:
                model.train(training)
            if logits.dim() != 2 or logits.shape[0] != 1:
                raise ValueError(f"model {name!r} must return class scores of shape (1, K), got {tuple(logits.shape)}")
            probabilities[name] = torch.softmax(logits.float(), 1)[0].cpu().numpy()
        return {"image": _display(x), "probabilities": probabilities,
                "prediction": {name: int(p.argmax()) for name, p in probabilities.items()},
                "corruption": corruption, "severity": severity}


def corruption_frame(models: nn.Module | Mapping[str, nn.Module], image: Any, corruption: str, severity: int,
                     seed: int = 0) -> dict[str, Any]:
    """A corrupted image and every model's class probabilities on it.

    Args:
        models: ``{name: model}`` or one model (images in [0, 1] in, class scores out).
        image: one image ``(C, H, W)`` or ``(H, W)``, uint8 or float in [0, 1].
        corruption: a registered corruption name, or ``"clean"``.
        severity: 1 .. its number of levels; 0 gives the clean image.
        seed: noise seed (same seed, same corrupted image).

    Returns:
        ``{"image": (H, W) or (H, W, 3) float32 in [0, 1], "probabilities": {name: (K,)},
        "prediction": {name: class index}, "corruption": str, "severity": int}``.

    Shape:
        - image: ``(C, H, W)``; ``"image"``: ``(H, W)`` or ``(H, W, 3)``; probabilities ``(K,)``.

    Example:
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
        >>> f = corruption_frame({"lin": model}, torch.rand(1, 28, 28), "mnist_gaussian_noise", 3)
        >>> f["image"].shape, round(float(f["probabilities"]["lin"].sum()), 4)
        ((28, 28), 1.0)
    """
    return CorruptionFrames(models, image, seed, cache_size=1)(corruption, severity)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) that is >= ``value``: colour
    limits that do not twitch with every small change of the data.

    >>> nice_ceiling(0.29), nice_ceiling(1.58), nice_ceiling(45.0)
    (0.3, 2.0, 50.0)
    """
    if not (value > 0 and math.isfinite(value)):
        return 1e-6
    exponent = math.floor(math.log10(value))
    for step in (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        candidate = round(step * 10.0 ** exponent, 12)
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10.0 ** (exponent + 1)  # pragma: no cover - 10.0 above always matches


def explorer_limits(push: np.ndarray, pull: np.ndarray, output: np.ndarray, alpha_max: float | None,
                    border: int) -> tuple[float, float]:
    """Colour limits of the explorer: ``(top of the push / pull scale, symmetric output limit)``.

    Both come from the interior of the maps (``border`` pixels left out: the zero padding makes an
    edge there) and ignore the top 0.5% (``quantile`` 0.995). With ``alpha_max`` the output limit
    covers every alpha from 0 to ``alpha_max`` (the output lies between ``-alpha_max * pull`` and
    ``push``), so moving the alpha slider changes the picture, not the colour bar; with None it fits
    the current output.

    Shape:
        - push, pull, output: ``(H, W)``.

    Example:
        >>> push, pull = np.ones((5, 5)), np.full((5, 5), 2.0)
        >>> explorer_limits(push, pull, push - pull, alpha_max=3.0, border=0)
        (2.0, 6.0)
    """
    def robust(values: np.ndarray) -> float:
        return robust_limit([torch.from_numpy(np.asarray(values, dtype=np.float32))], border)

    top = max(robust(push), robust(pull), 1e-6)
    if alpha_max is None:
        return top, max(robust(output), 1e-6)
    return top, max(robust(push), robust(alpha_max * pull), 1e-6)


# ------------------------------------------------------------------------------------ rendering
def _new_figure(width: float, height: float, dpi: int) -> Figure:
    """A figure on its own Agg canvas, not registered with pyplot (never auto-shown, never leaked)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    """PNG bytes of the figure's current Agg buffer (draw first)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(figure.canvas.buffer_rgba())).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _symmetric(limit: float) -> tuple[float, float]:
    limit = float(limit) if limit > 0 and math.isfinite(limit) else 1e-6
    return -limit, limit


class _Explorer:
    """Shared plumbing: one figure, an ``ipywidgets.Image`` showing it, muted programmatic updates."""

    figure: Figure

    def _setup_view(self) -> None:
        import ipywidgets as widgets

        self.view = widgets.Image(format="png", layout=widgets.Layout(width="auto", max_width="100%"))
        self._muted = False
        self.redraws = 0

    def _render(self) -> None:
        self.draw()
        self.redraws += 1
        self.view.value = _png(self.figure)

    def draw(self) -> None:
        """Draw the figure into its Agg buffer (what the PNG is made from)."""
        self.figure.canvas.draw()

    def _on_change(self, _change=None) -> None:
        if not self._muted:
            self.redraw()

    def redraw(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class PushPullExplorer(_Explorer):
    """Sliders for alpha, h, the noise level and the channel over one figure: the noisy input,
    the push and pull maps (one colour scale for both) and the output ``push - alpha * pull``
    of the chosen channel. Built by :func:`pushpull_explorer`; ``.widget`` is what a notebook shows."""

    def __init__(self, layer: nn.Module, image: Any, channel: int = 0, corruption: str = "mnist_gaussian_noise",
                 seed: int = 0, alpha: float | None = None, scale: float | None = None, noise_level: float = 0.0,
                 max_noise: float | None = None, normalize: Normalization | None = None, dpi: int = 100,
                 lock_scale: bool = True) -> None:
        import ipywidgets as widgets

        self.frames = PushPullFrames(layer, image, corruption, seed, normalize)
        pp = self.frames.layer
        channel = check_channels(channel, pp.out_channels, argument="channel")[0]
        # a learned (per-channel) alpha has no single slider value: start from the paper's
        alpha = (pp.alpha if isinstance(pp.alpha, float) else DEFAULT_ALPHA) if alpha is None else alpha
        alpha = check_number(alpha, "alpha", 0.0, "inhibition strength")
        scale = getattr(pp, "scale", DEFAULT_SCALE) if scale is None else scale
        scale = check_number(scale, "scale", 1.0, "h, pull/push kernel size ratio")
        noise_level = check_number(noise_level, "noise_level", 0.0, f"level of {corruption}")
        top = max(self.frames.levels) if max_noise is None else check_number(max_noise, "max_noise", 0.0,
                                                                             "slider maximum")
        top = max(top, noise_level, 1e-6)
        self.corruption = corruption
        info = corruption_info(corruption)
        self._noise_name = info.parameter

        style = {"description_width": "initial"}
        self.alpha_slider = widgets.FloatSlider(value=alpha, min=0.0, max=max(3.0, alpha), step=0.05,
                                                description="alpha (inhibition)", style=style, continuous_update=True)
        self.scale_slider = widgets.FloatSlider(value=scale, min=1.0, max=max(3.0, scale), step=0.1,
                                                description="h (pull scale)", style=style, continuous_update=True)
        self.noise_slider = widgets.FloatSlider(value=noise_level, min=0.0, max=top, step=top / 100,
                                                readout_format=".3g", description=f"noise ({info.parameter})",
                                                style=style, continuous_update=True)
        self.channel_slider = widgets.IntSlider(value=channel, min=0, max=pp.out_channels - 1,
                                                description="channel", style=style)
        self.lock_box = widgets.Checkbox(value=bool(lock_scale), description="lock colour scale over alpha",
                                         style=style, indent=False)
        self._build_figure(dpi)
        self._background, self._background_state = None, None
        self._setup_view()
        for slider in (self.alpha_slider, self.scale_slider, self.noise_slider, self.channel_slider, self.lock_box):
            slider.observe(self._on_change, names="value")
        controls = widgets.HBox([widgets.VBox([self.alpha_slider, self.scale_slider]),
                                 widgets.VBox([self.noise_slider, self.channel_slider, self.lock_box])])
        self.widget = widgets.VBox([controls, self.view])
        self.widget.explorer = self
        self.redraw()

    def _build_figure(self, dpi: int) -> None:
        # Fixed axes positions (inches -> figure fractions): four equal square panels, a colour bar
        # shared by push and pull, one for the output. No layout engine runs on a redraw.
        width, height, side, bottom = 11.4, 3.0, 2.15, 0.12
        self.figure = figure = _new_figure(width, height, dpi)

        def rect(x: float, w: float = side) -> list[float]:
            return [x / width, bottom / height, w / width, side / height]

        axes = [figure.add_axes(rect(x)) for x in (0.15, 2.75, 5.05, 8.25)]
        bars = [figure.add_axes(rect(x, 0.12)) for x in (7.3, 10.5)]
        self.axes = axes
        blank = np.zeros((2, 2), np.float32)
        first = np.zeros((2, 2, 3), np.float32) if self.frames.image.shape[1] == 3 else blank
        self.images = {
            "input": axes[0].imshow(first, cmap="gray", vmin=0, vmax=1, interpolation="nearest"),
            "push": axes[1].imshow(blank, cmap="magma", vmin=0, vmax=1, interpolation="nearest"),
            "pull": axes[2].imshow(blank, cmap="magma", vmin=0, vmax=1, interpolation="nearest"),
            "output": axes[3].imshow(blank, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest"),
        }
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        # a fixed title position (y=1): matplotlib would otherwise move titles it finds hidden during a draw
        self.titles = [ax.set_title("", fontsize=9, y=1.0) for ax in axes]
        self.bar_labels = []
        for bar, key, label in ((bars[0], "pull", "push / pull response"), (bars[1], "output", "output")):
            colourbar = figure.colorbar(self.images[key], cax=bar)
            colourbar.set_label(label, fontsize=8)
            self.bar_labels.append(colourbar.ax.yaxis.label)
        from matplotlib.ticker import MaxNLocator

        for bar in bars:
            bar.tick_params(labelsize=7)
            bar.yaxis.set_major_locator(MaxNLocator(4))  # fewer tick labels: text is most of a redraw's cost
        self.suptitle = figure.suptitle("", fontsize=10, y=0.98)

    def draw(self) -> None:
        """Draw the figure. While the colour limits stay the same (with the scale locked, every alpha step;
        the limits are rounded up to a "nice" value, so most small noise steps too), only the four maps and
        the titles are drawn, over a saved background with the axes and colour bars; otherwise everything."""
        canvas = self.figure.canvas
        spines = [spine for image in self.images.values() for spine in image.axes.spines.values()]
        moving = (*self.images.values(), *self.titles, *spines, self.suptitle)
        state = self._static_state()
        if self._background is not None and state == self._background_state:
            canvas.restore_region(self._background)
        else:
            for artist in moving:
                artist.set_visible(False)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            self._background_state = state
            for artist in moving:
                artist.set_visible(True)
        for image, title in zip(self.images.values(), self.titles, strict=True):
            image.axes.draw_artist(image)
            for spine in image.axes.spines.values():  # the frame is drawn over the image, as in a full draw
                image.axes.draw_artist(spine)
            image.axes.draw_artist(title)
        self.figure.draw_artist(self.suptitle)

    def _static_state(self) -> tuple:
        """What the saved background shows: the colour bars (limits, labels) and the axes frames."""
        return (tuple(image.get_clim() for image in self.images.values()),
                tuple(label.get_text() for label in self.bar_labels))

    @property
    def values(self) -> dict[str, float]:
        """The sliders' current values (and whether the colour scale is locked over alpha)."""
        return {"alpha": self.alpha_slider.value, "scale": self.scale_slider.value,
                "noise_level": self.noise_slider.value, "channel": self.channel_slider.value,
                "lock_scale": self.lock_box.value}

    def update(self, alpha: float | None = None, scale: float | None = None, noise_level: float | None = None,
               channel: int | None = None) -> None:
        """Move sliders from code (the ones given) and redraw once."""
        pp = self.frames.layer
        moves = []
        if alpha is not None:
            moves.append((self.alpha_slider, check_number(alpha, "alpha", 0.0, "inhibition strength")))
        if scale is not None:
            moves.append((self.scale_slider, check_number(scale, "scale", 1.0, "h, pull/push kernel size ratio")))
        if noise_level is not None:
            moves.append((self.noise_slider, check_number(noise_level, "noise_level", 0.0,
                                                          f"level of {self.corruption}")))
        if channel is not None:
            moves.append((self.channel_slider, check_channels(channel, pp.out_channels, argument="channel")[0]))
        self._muted = True
        try:
            for slider, value in moves:
                if value > slider.max:
                    slider.max = value
                slider.value = value
        finally:
            self._muted = False
        self.redraw()

    def compute(self) -> dict[str, np.ndarray]:
        """The frame for the sliders' current values (no drawing)."""
        v = self.values
        return self.frames(v["alpha"], v["scale"], v["noise_level"])

    def redraw(self, render: bool = True) -> None:
        """Recompute for the current slider values and update the figure in place."""
        v = self.values
        frame = self.compute()
        c = v["channel"]
        push, pull, out = frame["push"][c], frame["pull"][c], frame["output"][c]
        self.images["input"].set_data(frame["input"])
        locked = self.lock_box.value
        border = max(pull_geometry(self.frames.layer.push.kernel_size, v["scale"]).kernel_size) // 2
        top, limit = (nice_ceiling(v) for v in explorer_limits(push, pull, out,
                                                                self.alpha_slider.max if locked else None, border))
        for key, data in (("push", push), ("pull", pull)):
            self.images[key].set_data(data)
            self.images[key].set_clim(0.0, top)
        self.images["output"].set_data(out)
        self.images["output"].set_clim(-limit, limit)
        scope = f"scale fixed for alpha 0-{self.alpha_slider.max:g}" if locked else "scale of this alpha"
        self.bar_labels[1].set_text(f"output ({scope})")
        pp = self.frames.layer
        side = pp.push.kernel_size
        pull_side = pull_geometry(side, v["scale"]).kernel_size
        noise = "clean" if v["noise_level"] == 0 else f"noise level {v['noise_level']:.3g}"
        self.titles[0].set_text(f"input ({noise})")
        self.titles[1].set_text(f"push  ReLU(k * x), {side[0]}x{side[1]}")
        self.titles[2].set_text(f"pull  ReLU(-k_up * x), {pull_side[0]}x{pull_side[1]}")
        self.titles[3].set_text(f"output  push - {v['alpha']:.2f} pull")
        self.suptitle.set_text(f"Push-pull layer, channel {c} of {pp.out_channels}: alpha = {v['alpha']:.2f}, "
                               f"h = {v['scale']:.2f}; noise: {self.corruption} ({self._noise_name}) = "
                               f"{v['noise_level']:.3g}")
        self.frame = frame
        if render:
            self._render()


def pushpull_explorer(layer: nn.Module, image: Any, channel: int = 0, corruption: str = "mnist_gaussian_noise",
                      seed: int = 0, alpha: float | None = None, scale: float | None = None, noise_level: float = 0.0,
                      max_noise: float | None = None, normalize: Normalization | None = None, dpi: int = 100,
                      lock_scale: bool = True):
    """Interactive view of a push-pull layer on one image: sliders for alpha, h, the noise level
    and the channel; panels for the noisy input, push, pull (shared colour scale) and output.

    With ``lock_scale`` (the default; a check box in the widget) the output's colour scale covers
    every alpha on the slider, so moving alpha shows the suppression instead of a rescaled colour
    bar; unticked, each frame is scaled to its own range. Limits come from the interior of the maps
    (:func:`explorer_limits`).

    Args:
        layer: a :class:`~pushpull_viz.layers.PushPull2d`, or a model holding one (its first
            push-pull layer, behind the model's input normalisation).
        image: one image ``(C, H, W)`` or ``(H, W)``, uint8 or float in [0, 1].
        channel: output channel shown first.
        corruption: the noise (a corruption with numeric levels; see :func:`pushpull_frame`).
        seed: noise seed.
        alpha, scale: initial slider values (default: the layer's).
        noise_level: initial noise level (0 = clean).
        max_noise: noise slider maximum (default: the corruption's largest level).
        normalize: ``(mean, std)`` before the layer (default: the model's, if a model is given).
        dpi: resolution of the rendered figure.
        lock_scale: keep the colour scale fixed while alpha moves (see above).

    Returns:
        An ``ipywidgets.VBox`` to display; its ``.explorer`` attribute is the
        :class:`PushPullExplorer` (``.update(alpha=...)``, ``.figure``, ``.frame``).

    Example:
        >>> from pushpull_viz.layers import PushPull2d
        >>> box = pushpull_explorer(PushPull2d(1, 6, 5), torch.rand(28, 28))
        >>> box.explorer.update(alpha=0.0, noise_level=0.1)
        >>> box.explorer.values["alpha"], box.explorer.redraws
        (0.0, 2)
    """
    return PushPullExplorer(layer, image, channel, corruption, seed, alpha, scale, noise_level, max_noise,
                            normalize, dpi, lock_scale).widget


class CorruptionExplorer(_Explorer):
    """A corruption drop-down and a severity slider over one figure: the corrupted image and each
    model's top class probabilities as bars (the true class in green). Built by
    :func:`corruption_explorer`; ``.widget`` is what a notebook shows."""

    def __init__(self, models: nn.Module | Mapping[str, nn.Module], image: Any, label: int | None = None,
                 suite: str | Sequence[str] | None = None, class_names: Sequence[str] | None = None,
                 corruption: str | None = None, severity: int = 3, top_k: int = 5, seed: int = 0,
                 dpi: int = 80) -> None:
        import ipywidgets as widgets

        self.frames = CorruptionFrames(models, image, seed)
        channels = self.frames.image.shape[1]
        if suite is None:
            suite = ["mnist", "mnist-c"] if channels == 1 else ["cifar10-c"]
        self.corruptions = resolve_corruptions(suite)
        if not self.corruptions:
            raise ValueError(f"suite {suite!r} holds no corruptions")
        corruption = self.corruptions[0] if corruption is None else corruption
        if corruption not in self.corruptions:
            raise ValueError(f"corruption {corruption!r} is not in the suite; choose one of "
                             f"{', '.join(self.corruptions)}")
        probe = self.frames("clean", 0)
        classes = len(next(iter(probe["probabilities"].values())))
        self.class_names = [str(i) for i in range(classes)] if class_names is None else [str(c) for c in class_names]
        if len(self.class_names) != classes:
            raise ValueError(f"class_names has {len(self.class_names)} names but the models give {classes} classes")
        if label is not None and (isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < classes):
            raise ValueError(f"label must be a class index in 0..{classes - 1} or None, got {label!r}")
        self.label = label
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
        self.top_k = min(top_k, classes)
        levels = len(corruption_info(corruption).levels)
        if isinstance(severity, bool) or not isinstance(severity, int) or not 0 <= severity:
            raise ValueError(f"severity must be an integer >= 0 (0 = clean), got {severity!r}")

        style = {"description_width": "initial"}
        self.corruption_dropdown = widgets.Dropdown(options=self.corruptions, value=corruption,
                                                    description="corruption", style=style)
        self.severity_slider = widgets.IntSlider(value=min(severity, levels), min=0, max=levels,
                                                 description="severity (0 = clean)", style=style)
        self._build_figure(dpi)
        self._setup_view()
        self.corruption_dropdown.observe(self._on_corruption, names="value")
        self.severity_slider.observe(self._on_change, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.corruption_dropdown, self.severity_slider]), self.view])
        self.widget.explorer = self
        self.redraw()

    def _build_figure(self, dpi: int) -> None:
        n = len(self.frames.models)
        self.figure = figure = _new_figure(2.6 + 3.0 * n, 2.9, dpi)
        grid = figure.add_gridspec(1, n + 1, width_ratios=[1.0] + [1.35] * n, left=0.03, right=0.98, bottom=0.17,
                                   top=0.8, wspace=0.55)
        self.image_ax = figure.add_subplot(grid[0, 0])
        channels = self.frames.image.shape[1]
        blank = np.zeros((2, 2, 3) if channels == 3 else (2, 2), np.float32)
        self.image = self.image_ax.imshow(blank, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        self.image_ax.set_xticks([])
        self.image_ax.set_yticks([])
        self.image_title = self.image_ax.set_title("", fontsize=9)
        self.bar_axes, self.bars, self.bar_titles, self.bar_texts = [], [], [], []
        k = self.top_k
        for column, name in enumerate(self.frames.models, start=1):
            ax = figure.add_subplot(grid[0, column])
            bars = ax.barh(range(k), np.zeros(k), color="0.6", height=0.7)
            ax.set_xlim(0, 100)
            ax.set_ylim(k - 0.5, -0.5)
            ax.set_yticks(range(k), [""] * k, fontsize=8)
            ax.set_xlabel("probability (%)", fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
            ax.grid(axis="x", alpha=0.3)
            self.bar_texts.append([ax.text(0, i, "", va="center", fontsize=7) for i in range(k)])
            self.bar_titles.append(ax.set_title(str(name), fontsize=9))
            self.bar_axes.append(ax)
            self.bars.append(bars)
        self.suptitle = figure.suptitle("", fontsize=10)

    def _on_corruption(self, change) -> None:
        levels = len(corruption_info(change["new"]).levels)
        muted, self._muted = self._muted, True
        try:
            self.severity_slider.max = levels  # may clamp the value
        finally:
            self._muted = muted
        self._on_change()

    @property
    def values(self) -> dict[str, Any]:
        return {"corruption": self.corruption_dropdown.value, "severity": self.severity_slider.value}

    def update(self, corruption: str | None = None, severity: int | None = None) -> None:
        """Pick a corruption and/or severity from code and redraw once."""
        self._muted = True
        try:
            if corruption is not None:
                if corruption not in self.corruptions:
                    raise ValueError(f"corruption {corruption!r} is not in the suite; choose one of "
                                     f"{', '.join(self.corruptions)}")
                self.corruption_dropdown.value = corruption
                self.severity_slider.max = len(corruption_info(corruption).levels)
            if severity is not None:
                top = self.severity_slider.max
                if isinstance(severity, bool) or not isinstance(severity, int) or not 0 <= severity <= top:
                    raise ValueError(f"severity must be an integer in 0..{top} (0 = clean), got {severity!r}")
                self.severity_slider.value = severity
        finally:
            self._muted = False
        self.redraw()

    def compute(self) -> dict[str, Any]:
        """The frame for the current picks (no drawing)."""
        v = self.values
        return self.frames(v["corruption"], v["severity"])

    def redraw(self, render: bool = True) -> None:
        """Recompute for the current picks and update the figure in place."""
        v = self.values
        frame = self.compute()
        self.image.set_data(frame["image"])
        info = corruption_info(v["corruption"])
        if v["severity"] == 0:
            what = "clean"
        else:
            what = f"severity {v['severity']}"
        truth = f"true: {self.class_names[self.label]}" if self.label is not None else ""
        self.image_title.set_text(f"{what}\n{truth}".strip())
        level = corruption_level(v["corruption"], v["severity"]) if v["severity"] else None
        self.suptitle.set_text(f"{v['corruption'].replace('_', ' ')}: severity {v['severity']}"
                               + (f" ({info.parameter} = {level})" if level is not None else " (clean image)"))
        for ax, bars, texts, title, (name, p) in zip(self.bar_axes, self.bars, self.bar_texts, self.bar_titles,
                                                     frame["probabilities"].items(), strict=True):
            order = np.argsort(-p, kind="stable")[: self.top_k]
            for bar, text, index in zip(bars, texts, order, strict=True):
                width = 100 * float(p[index])
                bar.set_width(width)
                bar.set_color("tab:green" if index == self.label else "0.6")
                text.set_text(f"{width:.0f}")
                inside = width > 85  # no room on the right: write it inside the bar
                text.set_x(width - 1.5 if inside else width + 1.5)
                text.set_horizontalalignment("right" if inside else "left")
                text.set_color("white" if inside else "black")
            ax.set_yticklabels([self.class_names[i] for i in order])
            guess = self.class_names[frame["prediction"][name]]
            right = frame["prediction"][name] == self.label
            verdict = "" if self.label is None else (" (right)" if right else " (wrong)")
            title.set_text(f"{name}\nsays {guess}{verdict}")
        self.frame = frame
        if render:
            self._render()


def corruption_explorer(models: nn.Module | Mapping[str, nn.Module], image: Any, label: int | None = None,
                        suite: str | Sequence[str] | None = None, class_names: Sequence[str] | None = None,
                        corruption: str | None = None, severity: int = 3, top_k: int = 5, seed: int = 0,
                        dpi: int = 80):
    """Interactive view of how models classify one image under a chosen corruption.

    Args:
        models: ``{name: model}`` or one model (images in [0, 1] in, class scores out), e.g.
            a plain model and its push-pull twin.
        image: one image ``(C, H, W)``, uint8 or float in [0, 1].
        label: its true class (its bar is green; titles say right/wrong), or ``None``.
        suite: suite name(s) or corruption names for the drop-down (default: ``"cifar10-c"``
            for colour images, the MNIST suites for grey ones).
        class_names: names of the model's classes (default: indices).
        corruption, severity: initial picks (severity 0 = clean).
        top_k: how many classes each model's bar chart shows.
        seed: noise seed.
        dpi: resolution of the rendered figure.

    Returns:
        An ``ipywidgets.VBox`` to display; ``.explorer`` is the :class:`CorruptionExplorer`
        (``.update(corruption=..., severity=...)``, ``.figure``, ``.frame``).

    Example:
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
        >>> box = corruption_explorer({"lin": model}, torch.rand(1, 28, 28), label=3)
        >>> box.explorer.update(corruption="mnist_poisson_contrast", severity=5)
        >>> box.explorer.values
        {'corruption': 'mnist_poisson_contrast', 'severity': 5}
    """
    return CorruptionExplorer(models, image, label, suite, class_names, corruption, severity, top_k, seed, dpi).widget
