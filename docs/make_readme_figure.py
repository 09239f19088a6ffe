"""Draw docs/push_pull.png, the README's figure: what the pull branch removes.

A hand-made oriented 5x5 push kernel (an edge detector) on a noisy vertical edge;
the push-pull layer (h=2, alpha=1) keeps the edge and suppresses the noise response.

    python docs/make_readme_figure.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from pushpull_viz import PushPull2d

FIGURE = Path(__file__).with_name("push_pull.png")


def main(out: Path = FIGURE) -> None:
    torch.manual_seed(0)
    size = 60
    image = torch.zeros(1, 1, size, size)
    image[..., size // 2:] = 1.0
    noisy = (image + 0.35 * torch.randn_like(image)).clamp(0, 1)

    layer = PushPull2d(1, 1, 5, padding=2)  # the paper's alpha = 1, h = 2
    x = torch.linspace(-2, 2, 5)
    kernel = torch.exp(-x[None, :] ** 2 / 2) * torch.tanh(2 * x)[:, None].T  # vertical-edge detector
    kernel = (kernel * torch.exp(-x[:, None] ** 2 / 8)) / kernel.abs().sum()
    with torch.no_grad():
        layer.push.weight.copy_(kernel.view(1, 1, 5, 5))
        push, pull = layer.push_pull_responses(noisy)
        output = layer(noisy)

    panels = [
        (noisy, "input: noisy edge", "gray"),
        (layer.push.weight, "push kernel k (5x5)", "RdBu_r"),
        (layer.pull_weight, "pull kernel -k_up (11x11)", "RdBu_r"),
        (push, "push: ReLU(k * I)", "magma"),
        (pull, "pull: ReLU(-k_up * I)", "magma"),
        (output, "output: push - alpha * pull", "PuOr_r"),
    ]
    fig, axes = plt.subplots(1, 6, figsize=(15, 2.9))
    kernel_limit = layer.pull_weight.abs().max().item()
    response_limit = push.max().item()
    crop = slice(6, -6)  # leave out the zero-padded border, where the image itself "ends" in an edge
    for ax, (tensor, title, cmap) in zip(axes, panels, strict=True):
        data = tensor.detach()[0, 0].numpy()
        if cmap == "RdBu_r":
            ax.imshow(data, cmap=cmap, vmin=-kernel_limit, vmax=kernel_limit)
        elif cmap == "magma":
            ax.imshow(data[crop, crop], cmap=cmap, vmin=0, vmax=response_limit)
        elif cmap == "PuOr_r":  # signed: inhibited places are negative
            ax.imshow(data[crop, crop], cmap=cmap, vmin=-response_limit, vmax=response_limit)
        else:
            ax.imshow(data[crop, crop], cmap=cmap, vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Push-pull inhibition (h=2, alpha=1): the pull branch fires on the noise the push kernel "
                 "also answers, and is subtracted (output: orange > 0, purple < 0); kernels share one colour scale, "
                 "responses another", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
