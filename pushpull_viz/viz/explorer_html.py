"""A push-pull explorer that needs no Python: one self-contained HTML file.

:func:`write_explorer_html` precomputes a grid of first-layer responses (alpha x noise level) for
a few one-channel push-pull units and writes them, as small PNG images inside the page, with two
sliders and a few lines of JavaScript: no server, no network, no kernel. It is for rooms where the
notebooks' live widgets cannot run (a journal club, a lecture hall).

Each unit shows the noisy input, the rectified push and pull responses and the output
``push - alpha * pull``. Colour scales are locked over the whole grid of that unit (input 0..1;
push and pull one shared scale; output a diverging scale), so a change on screen is a change in
the response, never a rescaled colour bar. The maps are computed on a larger canvas and shown
without the outer band as wide as half the pull kernel, where the zero padding makes a border
edge of its own; the colour limits come from what is shown.

    pushpull-viz explorer --out outputs/explorer.html

The page reads ``#alpha=I&noise=J`` (slider positions) from its address at load, so a link can
open it at a chosen frame.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..checks import check_alpha, check_int
from ..corruptions import corrupt_at_level
from ..io import atomic_write_text, check_output_file
from ..layers import PushPull2d
from .features import robust_limit
from .stimuli import bar_image, gabor_kernel, pushpull_from_kernel
from .suppression import preferred_stimulus

__all__ = ["DEFAULT_ALPHAS", "DEFAULT_NOISE_VARIANCES", "ExplorerUnit", "explorer_units", "write_explorer_html"]

#: Inhibition strengths on the alpha slider (9 values, the paper's alpha = 1 in the middle).
DEFAULT_ALPHAS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)
#: Gaussian noise variances sigma^2 on the noise slider (images in [0, 1]; the paper's MNIST text quotes 0.2).
DEFAULT_NOISE_VARIANCES: tuple[float, ...] = (0.0, 0.01, 0.05, 0.1, 0.2, 0.5)


class ExplorerUnit:
    """One push-pull unit of the page: a name, a one-channel layer and its input image.

    ``layer`` is a :class:`~pushpull_viz.PushPull2d` with one input and one output channel;
    ``image`` a ``(1, H, W)`` tensor in [0, 1], of which the page shows all but a band of half the
    pull kernel's side (the padding artefact); ``normalize`` maps [0, 1] images to what the layer
    sees (the model's input normalisation, identity by default).
    """

    def __init__(self, name: str, layer: PushPull2d, image: Tensor, note: str = "", normalize=None) -> None:
        if not isinstance(layer, PushPull2d) or layer.in_channels != 1 or layer.out_channels != 1:
            raise ValueError("layer must be a PushPull2d with one input and one output channel")
        if image.dim() != 3 or image.shape[0] != 1:
            raise ValueError(f"image must have shape (1, H, W), got {tuple(image.shape)}")
        self.name, self.layer, self.image, self.note = name, layer.eval(), image.float(), note
        self.normalize = normalize or (lambda x: x)


def explorer_units() -> list[ExplorerUnit]:
    """The two units of the default page: a V1-like Gabor kernel (7x7, pull 15x15) on its matched
    stimulus (the kernel drawn on mid-grey), and the strongest learned first-layer kernel of the
    shipped LeNet-A-PP (the paper's recipe, ``load_pretrained("lenet-a-pp-paper")``) on a
    digit-like bright stroke on black, with the model's input normalisation and the kernel's bias."""
    from ..models.common import Normalize
    from ..pretrained import load_pretrained

    gabor, _ = pushpull_from_kernel(gabor_kernel(7, theta=0, wavelength=8, phase=-90))
    units = [ExplorerUnit("Gabor kernel (7x7, hand-made)", gabor, preferred_stimulus(gabor, 0, 46),
                          "an odd-symmetric Gabor: it prefers vertical edges, dark on the left, bright on the right; "
                          "input: the kernel itself drawn on mid-grey (its matched stimulus)")]
    model = load_pretrained("lenet-a-pp-paper")
    first = model.conv1
    channel = int(first.push.weight.detach().flatten(1).norm(dim=1).argmax())
    learned = PushPull2d(1, 1, first.push.kernel_size, padding=first.push.padding, bias=first.push.bias is not None,
                         alpha=float(first.alpha), scale=first.scale)
    with torch.no_grad():
        learned.push.weight.copy_(first.push.weight[channel:channel + 1])
        if first.push.bias is not None:
            learned.push.bias.copy_(first.push.bias[channel:channel + 1])
    normalize = model.normalize if isinstance(model.normalize, Normalize) else None
    units.append(ExplorerUnit(f"LeNet-A-PP, learned kernel {channel} (5x5)", learned,
                              bar_image(38, theta=-45, width=3, length=20),
                              "the first layer of a LeNet-A-PP trained by this project on MNIST (the paper's recipe); "
                              "input: a pen-stroke-like bar on black, normalised as the model does. Its pull is not "
                              "renormalised and outweighs the push along one side of the bar", normalize))
    return units


def _frames(unit: ExplorerUnit, alphas: Sequence[float], noise: Sequence[float], seed: int) -> dict:
    """Input, push and pull per noise level; output per (alpha, noise); locked limits."""
    images, push, pull = [], [], []
    with torch.no_grad():
        for variance in noise:
            generator = torch.Generator().manual_seed(seed)  # the same draw, scaled: frames differ only by sigma
            x = unit.image[None]
            if variance > 0:
                x = corrupt_at_level(x, "mnist_gaussian_noise", variance, generator)
            images.append(x[0, 0])
            p, q = unit.layer.push_pull_responses(unit.normalize(x))
            push.append(p[0, 0])
            pull.append(q[0, 0])
        outputs = [[unit.layer.output_from_responses(push[j], pull[j], a) for j in range(len(noise))] for a in alphas]
    band = max(unit.layer.pull_kernel_size) // 2

    def shown(m: Tensor) -> Tensor:
        return m[band:m.shape[0] - band, band:m.shape[1] - band]

    images, push, pull = [shown(m) for m in images], [shown(m) for m in push], [shown(m) for m in pull]
    outputs = [[shown(m) for m in row] for row in outputs]
    branch_limit = max(robust_limit(push + pull, 0), 1e-6)
    output_limit = max(robust_limit([o for row in outputs for o in row], 0), 1e-6)
    return {"input": images, "push": push, "pull": pull, "output": outputs,
            "limits": {"branch": branch_limit, "output": output_limit}}


def _png(values: Tensor, cmap: str, low: float, high: float) -> str:
    """A map as a base64 PNG data URL through a matplotlib colour map (no figure)."""
    import matplotlib
    from PIL import Image

    scaled = ((values.float().cpu().numpy() - low) / (high - low)).clip(0, 1)
    rgb = (matplotlib.colormaps[cmap](scaled)[..., :3] * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _colorbar(cmap: str) -> str:
    return _png(torch.linspace(0, 1, 128)[None].repeat(8, 1), cmap, 0.0, 1.0)


def write_explorer_html(out: str | os.PathLike = "outputs/explorer.html", units: Sequence[ExplorerUnit] | None = None,
                        alphas: Sequence[float] = DEFAULT_ALPHAS,
                        noise_variances: Sequence[float] = DEFAULT_NOISE_VARIANCES, seed: int = 0) -> Path:
    """Write the explorer page: for each unit, input, push, pull and output for every alpha and
    noise level, two sliders, no network.

    Args:
        out: the ``.html`` file to write (atomically).
        units: what to show (default :func:`explorer_units`: a Gabor kernel and a learned LeNet-A-PP kernel).
        alphas: inhibition strengths on the first slider (>= 0).
        noise_variances: Gaussian noise variances on the second slider (>= 0; images in [0, 1]).
        seed: the noise draw (one draw, scaled to each level).

    Returns:
        The path written.
    """
    out = check_output_file(out, "out")
    alphas = [check_alpha(a) for a in alphas]
    noise = [float(v) for v in noise_variances]
    if not alphas or not noise or any(not np.isfinite(v) or v < 0 for v in noise):
        raise ValueError("alphas and noise_variances must be non-empty; noise variances finite and >= 0")
    check_int(seed, "seed", 0)
    units = list(units) if units is not None else explorer_units()
    data = []
    for unit in units:
        frames = _frames(unit, alphas, noise, seed)
        b, o = frames["limits"]["branch"], frames["limits"]["output"]
        data.append({
            "name": unit.name, "note": unit.note,
            "limits": {"input": "0 to 1", "branch": f"0 to {b:.3g}", "output": f"-{o:.3g} to {o:.3g}"},
            "input": [_png(m, "gray", 0.0, 1.0) for m in frames["input"]],
            "push": [_png(m, "magma", 0.0, b) for m in frames["push"]],
            "pull": [_png(m, "magma", 0.0, b) for m in frames["pull"]],
            "output": [[_png(m, "RdBu_r", -o, o) for m in row] for row in frames["output"]],
        })
    page = _PAGE.format(
        data=json.dumps({"alphas": alphas, "noise": noise, "units": data}),
        alpha_max=len(alphas) - 1, noise_max=len(noise) - 1,
        alpha_start=min(range(len(alphas)), key=lambda i: abs(alphas[i] - 1.0)),
        gray=_colorbar("gray"), magma=_colorbar("magma"), rdbu=_colorbar("RdBu_r"),
        title=html.escape("Push-pull explorer"))
    return atomic_write_text(out, page)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
 body {{ font-family: system-ui, sans-serif; margin: 1.2em; color: #222; max-width: 1100px; }}
 h1 {{ font-size: 1.5em; margin: 0 0 .2em; }}
 .controls {{ display: flex; gap: 2.5em; margin: .8em 0 1em; font-size: 1.1em; }}
 .controls input {{ width: 280px; vertical-align: middle; }}
 .unit h2 {{ font-size: 1.1em; margin: .9em 0 .1em; }}
 .unit p {{ margin: 0 0 .4em; color: #555; font-size: .9em; }}
 .row {{ display: flex; gap: 14px; }}
 figure {{ margin: 0; text-align: center; }}
 figure img.map {{ width: 210px; height: 210px; image-rendering: pixelated; border: 1px solid #bbb; }}
 figcaption {{ font-size: .9em; }}
 img.bar {{ width: 210px; height: 8px; display: block; image-rendering: pixelated; }}
 .scale {{ font-size: .8em; color: #555; }}
</style></head>
<body>
<h1>Push-pull inhibition: alpha and noise</h1>
<div>Output = ReLU(k * I) &minus; &alpha; ReLU(&minus;k<sub>&uarr;h</sub> * I), h = 2 (Strisciuglio, Lopez-Antequera,
Petkov 2020). Colour scales are fixed for each row over all slider positions. Red: the unit fires;
blue: the pull pushes the output below zero (the next ReLU removes it).</div>
<div class="controls">
 <label>&alpha; = <b id="alpha-value"></b><br><input id="alpha" type="range" min="0" max="{alpha_max}" step="1"
  value="{alpha_start}"></label>
 <label>noise variance &sigma;<sup>2</sup> = <b id="noise-value"></b><br><input id="noise" type="range" min="0"
  max="{noise_max}" step="1" value="0"></label>
</div>
<div id="units"></div>
<script>
const DATA = {data};
const BARS = {{input: "{gray}", branch: "{magma}", output: "{rdbu}"}};
const units = document.getElementById("units");
DATA.units.forEach((u, i) => {{
  const panel = (key, caption, bar) => `<figure><img class="map" id="${{key}}-${{i}}" alt="${{caption}}">
    <figcaption>${{caption}}</figcaption><img class="bar" src="${{BARS[bar]}}" alt="">
    <span class="scale">${{u.limits[bar]}}</span></figure>`;
  units.insertAdjacentHTML("beforeend", `<div class="unit"><h2>${{u.name}}</h2><p>${{u.note}}</p><div class="row">
    ${{panel("input", "input + noise", "input")}}${{panel("push", "push: ReLU(k * I)", "branch")}}
    ${{panel("pull", "pull: ReLU(&minus;k<sub>&uarr;h</sub> * I)", "branch")}}
    ${{panel("output", "output: push &minus; &alpha; pull", "output")}}</div></div>`);
}});
const alpha = document.getElementById("alpha"), noise = document.getElementById("noise");
function draw() {{
  const a = +alpha.value, n = +noise.value;
  document.getElementById("alpha-value").textContent = DATA.alphas[a];
  document.getElementById("noise-value").textContent = DATA.noise[n];
  DATA.units.forEach((u, i) => {{
    document.getElementById(`input-${{i}}`).src = u.input[n];
    document.getElementById(`push-${{i}}`).src = u.push[n];
    document.getElementById(`pull-${{i}}`).src = u.pull[n];
    document.getElementById(`output-${{i}}`).src = u.output[a][n];
  }});
}}
const wanted = new URLSearchParams(location.hash.slice(1));
if (wanted.has("alpha")) alpha.value = wanted.get("alpha");
if (wanted.has("noise")) noise.value = wanted.get("noise");
alpha.addEventListener("input", draw);
noise.addEventListener("input", draw);
draw();
</script>
</body></html>
"""
