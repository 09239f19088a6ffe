# %% [markdown]
# # 01 · Push-pull inhibition: the intuition
#
# **Question.** A simple cell in the primary visual cortex (V1) fires for an edge of one
# orientation and polarity. Many such cells are also *inhibited* by the opposite polarity at the
# same place ("push-pull"), and that makes them keep responding to edges while ignoring noise.
# Why does subtracting an opposite-polarity response suppress noise but keep edges?
#
# The push-pull layer of Strisciuglio, Lopez-Antequera and Petkov (2020) turns this into a CNN
# layer:
#
# $$P(I) = \mathrm{ReLU}(k * I) - \alpha\,\mathrm{ReLU}(-k_{\uparrow h} * I)$$
#
# where $k$ is the learned **push** kernel, $k_{\uparrow h}$ is $k$ up-sampled by a factor $h$
# (2 in the paper) and negated: the **pull** kernel, wider and of opposite polarity. $\alpha$ sets
# how strongly the pull inhibits. This notebook uses one hand-made, V1-like kernel (a Gabor
# function) so every map can be read by eye; notebooks 02 and 03 look at learned kernels.

# %% tags=["parameters"]
from pushpull_viz.notebook import notebook_settings

S = notebook_settings()  # PUSHPULL_MODE=quick|full and PUSHPULL_DATA=<data root> select these
KERNEL_SIZE = 7      # the push kernel; its pull kernel is 15x15 at h = 2
ALPHA, SCALE = 1.0, 2.0
NOISE_VARIANCE = 0.1  # Gaussian noise added to [0, 1] images (the paper quotes up to sigma^2 = 0.2)
N_DIGITS = 200 if S["quick"] else 2000  # digits used for the signal-to-noise curves
print(S["machine"])

# %%
%config InlineBackend.rc = {"figure.dpi": 80}  # smaller embedded figures
%matplotlib inline
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from pushpull_viz.corruptions import corrupt_at_level
from pushpull_viz.data import load_dataset
from pushpull_viz.viz import (
    edge_image,
    feature_snr,
    gabor_kernel,
    grating,
    plot_feature_maps,
    plot_pull_upsampling,
    plot_snr_curves,
    pushpull_explorer,
    pushpull_from_kernel,
)

layer, conv = pushpull_from_kernel(gabor_kernel(KERNEL_SIZE, theta=0, wavelength=8, phase=-90), ALPHA, SCALE)
layer

# %% [markdown]
# ## The push kernel and the pull kernel it implies
#
# The push kernel is an odd-symmetric Gabor, negative on the left and positive on the right: it responds to
# vertical edges that go from dark to bright, left to right. The pull kernel is the same pattern stretched by $h$ and negated:
# it responds to the *opposite* polarity over a wider neighbourhood. Nothing new is learned.

# %%
fig = plot_pull_upsampling(layer)

# %% [markdown]
# ## An edge, clean and noisy
#
# Rows: the plain convolution (push only, rectified), then the push-pull layer's push, pull and
# output maps. On the clean edge the pull is silent where the push fires, so the output keeps the
# edge. On noise, push and pull respond alike (noise has both polarities everywhere), so the
# subtraction removes much of the noise response. (The responses at the right border come from
# the zero padding: bright image next to black padding is an edge of the opposite polarity.)

# %%
edge = edge_image(48, theta=0)
# x + N(0, sigma^2), clipped to [0, 1], with a fixed noise seed
noisy_edge = corrupt_at_level(edge[None], "mnist_gaussian_noise", NOISE_VARIANCE,
                              torch.Generator().manual_seed(0))[0]
fig = plot_feature_maps({"Gabor conv": conv, "Gabor push-pull": layer}, edge, noisy_edge,
                        noise_label=f"Gaussian noise, sigma^2 = {NOISE_VARIANCE}")

# %% [markdown]
# Note the colour bars: the pull response is larger than the push response. The pull kernel has
# about h^2 = 4 times as many taps and is not renormalised (paper, section 3.1), so wherever the
# opposite polarity is present the output goes strongly negative; the next layer sees that.
#
# The same on a grating of the preferred orientation and on one rotated by 90 degrees (to which
# neither kernel responds): push-pull does not change *what* the kernel prefers.

# %%
fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
stimuli = {"preferred grating": grating(48, 0, 8), "orthogonal grating": grating(48, 90, 8)}
for column, (title, image) in enumerate(stimuli.items()):
    with torch.no_grad():
        plain = torch.relu(conv(image[None]))[0, 0]
        output = layer(image[None])[0, 0]
    axes[2 * column].imshow(plain, cmap="magma", vmin=0, vmax=0.5)
    axes[2 * column].set_title(f"{title}\nconv + ReLU", fontsize=9)
    axes[2 * column + 1].imshow(output, cmap="magma", vmin=0, vmax=0.5)
    axes[2 * column + 1].set_title(f"{title}\npush-pull output", fontsize=9)
for ax in axes:
    ax.set_axis_off()
fig.suptitle("Orientation preference is unchanged (same colour scale in all four panels)")
fig.tight_layout()

# %% [markdown]
# ## A real image: handwritten digits
#
# Feature-map signal-to-noise ratio: the energy of the layer's response to the clean digit
# divided by the energy of the *change* the noise causes, pooled over digits and pixels
# (`feature_snr`; higher is better). alpha = 0 is the plain rectified convolution.

# %%
digits = load_dataset("mnist", "test", S["data_root"], download=S["data_root"] is None).images[:N_DIGITS]
digit = digits[0].float() / 255
noisy_digit = corrupt_at_level(digit[None], "mnist_gaussian_noise", NOISE_VARIANCE,
                               torch.Generator().manual_seed(0))[0]
fig = plot_feature_maps({"Gabor conv": conv, "Gabor push-pull": layer}, digit, noisy_digit,
                        noise_label=f"Gaussian noise, sigma^2 = {NOISE_VARIANCE}")

# %%
snr = feature_snr({"Gabor push-pull": layer, "Gabor conv": conv}, digits, [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5],
                  alphas=[0.0, 0.5, 1.0, 2.0])
fig = plot_snr_curves(snr, title="Feature-map SNR of one Gabor kernel on MNIST digits")
snr.pivot_table(index="alpha_label", columns="noise_level", values="snr_db", sort=False).round(1)

# %% [markdown]
# ## Explore: alpha, h and the noise level
#
# Move the sliders: alpha = 0 gives the plain rectified response; larger h widens the pull
# kernel. (Widgets need a running kernel: a static rendering, e.g. on a code-hosting site, cannot show them.)

# %%
display(pushpull_explorer(layer, digit, noise_level=NOISE_VARIANCE, max_noise=0.5))

# %% [markdown]
# ## Things to try
#
# 1. Use an even-symmetric Gabor (`phase=0`, a line detector) instead of the edge detector. Does
#    push-pull suppress noise as well? Why might the answer depend on the kernel's symmetry?
# 2. Find the alpha that maximises the feature-map SNR at sigma^2 = 0.2. Is it the same at
#    sigma^2 = 0.02? What does that suggest about a fixed alpha = 1?
# 3. Set `SCALE = 1` (pull = the push kernel itself). What does the layer compute then, and why
#    does the paper prefer h = 2?
# 4. Replace Gaussian noise by salt-and-pepper (`corrupt_at_level(x, "impulse_noise", amount, generator)`).
#    Which noise does push-pull handle better, and why?
# 5. Read section 3.1 of the paper and write the pull kernel of a 3x3 push kernel at h = 2 by hand.
#    Check it against `layer.pull_weight`.
