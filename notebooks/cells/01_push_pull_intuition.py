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
# where $k$ is the learned **push** kernel and $k_{\uparrow h}$ is $k$ up-sampled by a factor $h$
# (2 in the paper). The **pull** kernel is $-k_{\uparrow h}$ (the minus sign in the formula): wider, and
# of opposite polarity. $\alpha$ sets how strongly the pull inhibits. This notebook uses one hand-made, V1-like kernel (a Gabor
# function) so every map can be read by eye; notebooks 02 and 03 look at learned kernels.

# %% tags=["parameters"]
from pushpull_viz.notebook import notebook_settings

S = notebook_settings()  # PUSHPULL_MODE=quick|full and PUSHPULL_DATA=<data root> select these
KERNEL_SIZE = 7      # the push kernel; its pull kernel is 15x15 at h = 2
ALPHA, SCALE = 1.0, 2.0
NOISE_VARIANCE = 0.1  # Gaussian noise added to [0, 1] images (the paper's text quotes sigma^2 = 0.2)
N_DIGITS = 200 if S["quick"] else 2000  # digits used for the pooled signal-to-noise ratio
TRIALS = 200 if S["quick"] else 1000    # noise draws per level for the detectability test
NOISE_LEVELS = [0.01, 0.05, 0.1, 0.2, 0.5]  # noise variances sigma^2 of the detectability test
print(S["machine"])

# %%
%config InlineBackend.rc = {"figure.dpi": 110}  # embedded figures readable at their size
%matplotlib inline
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from pushpull_viz.corruptions import corrupt_at_level
from pushpull_viz.data import load_dataset
from pushpull_viz.viz import (
    detectability,
    edge_image,
    feature_snr,
    gabor_kernel,
    grating,
    plot_detectability,
    plot_feature_maps,
    plot_pull_upsampling,
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
# edge. On the noisy image both branches respond to the noise, each where the noise happens to look
# like its own pattern. The zero padding makes the image border an edge too (bright image next to black
# padding): the wide pull responds strongly along the right border, so the colour limits are taken
# from the interior (a 7-pixel border left out, the reach of the 15x15 pull kernel); the border pixels
# saturate the scale and are not the point of the figure.

# %%
edge = edge_image(48, theta=0)
# x + N(0, sigma^2), clipped to [0, 1], with a fixed noise seed
noisy_edge = corrupt_at_level(edge[None], "mnist_gaussian_noise", NOISE_VARIANCE,
                              torch.Generator().manual_seed(0))[0]
fig = plot_feature_maps({"Gabor conv": conv, "Gabor push-pull": layer}, edge, noisy_edge,
                        noise_label=f"Gaussian noise, sigma^2 = {NOISE_VARIANCE}")

# %% [markdown]
# The same on a grating of the preferred orientation and on one rotated by 90 degrees (to which
# neither kernel responds). The output is signed, so it is drawn on a diverging scale symmetric about
# 0 (red positive, blue negative); the rectified convolution on the same limits.

# %%
stimuli = {"preferred grating": grating(48, 0, 8), "orthogonal grating": grating(48, 90, 8)}
maps = {}
with torch.no_grad():
    for title, image in stimuli.items():
        maps[title] = (torch.relu(conv(image[None]))[0, 0, 8:-8, 8:-8], layer(image[None])[0, 0, 8:-8, 8:-8])
limit = max(m.abs().max().item() for pair in maps.values() for m in pair)
fig, axes = plt.subplots(1, 4, figsize=(9, 2.8), layout="constrained")
for column, (title, (plain, output)) in enumerate(maps.items()):
    shown = axes[2 * column].imshow(plain, cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[2 * column].set_title(f"{title}\nconv + ReLU", fontsize=9)
    shown = axes[2 * column + 1].imshow(output, cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[2 * column + 1].set_title(f"{title}\npush-pull output", fontsize=9)
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])  # keep the frame: an all-white panel is "no response", not a missing plot
fig.colorbar(shown, ax=axes.tolist(), fraction=0.02, label="response (shared, symmetric)")
fig.suptitle("Push-pull keeps the orientation preference and adds negative responses (interior, border cropped)",
             fontsize=10)
plain, output = maps["preferred grating"]
print(f"preferred grating: output < 0 at {100 * (output < 0).float().mean():.0f}% of the pixels "
      f"(min {output.min():.2f}); conv + ReLU is never negative; the output's maximum is "
      f"{output.max() / plain.max():.2f}x the rectified convolution's")

# %% [markdown]
# ## A real image: handwritten digits
#
# The same maps on a digit. Note the colour bars: here the pull response is about three times the push
# response (on the edge and the grating above it was the smaller one). The pull kernel has about 4.6 times
# as many taps (15x15 against 7x7, roughly $h^2$) and is not renormalised (the authors' code up-samples
# the kernel and uses it as it is; the paper's section 3.1 does not mention a normalisation), so wherever
# the opposite polarity is present, as on the dark side of every bright stroke, the output goes strongly
# negative; the next layer sees that.

# %%
digits = load_dataset("mnist", "test", S["data_root"], download=S["data_root"] is None).images[:N_DIGITS]
digit = digits[0].float() / 255
noisy_digit = corrupt_at_level(digit[None], "mnist_gaussian_noise", NOISE_VARIANCE,
                               torch.Generator().manual_seed(0))[0]
fig = plot_feature_maps({"Gabor conv": conv, "Gabor push-pull": layer}, digit, noisy_digit,
                        noise_label=f"Gaussian noise, sigma^2 = {NOISE_VARIANCE}")

# %% [markdown]
# ## A measure that misleads: the pooled feature-map SNR
#
# A tempting measure of noise suppression is the energy of the layer's response to the clean digit
# divided by the energy of the *change* the noise causes, pooled over digits and pixels
# (`feature_snr`, in dB). Watch what it does as alpha grows far beyond the paper's 1:

# %%
snr = feature_snr(layer, digits, [0.05, 0.1, 0.2, 0.5], alphas=[0.0, 0.5, 1.0, 2.0, 8.0, 32.0, 1000.0])
snr.pivot_table(index="alpha", columns="noise_level", values="snr_db").round(1)

# %% [markdown]
# It rises with alpha at every noise level and levels off from about alpha = 8; at alpha = 1000 the output
# is almost exactly $-\alpha\,\mathrm{ReLU}(\text{pull})$, and the pull kernel is a wide, smooth filter
# whose response changes little under pixel noise, so the "best alpha" of this measure is simply the
# largest: it shows that a low-pass filter is less noisy, not that push and pull cancel noise. It is
# not evidence for the paper's claim.
#
# ## A fair test: can the unit still tell its pattern from noise?
#
# The paper's claim is about units: a push-pull unit keeps responding to the pattern it prefers and
# responds less to noise. So test the unit as a detector (`detectability`): show it its preferred
# pattern (here the edge it was built for) plus noise, and noise alone on a grey image, many times, and
# measure how well its response in the pattern's region separates the two: the detectability
# $d' = (\bar r_\text{pattern} - \bar r_\text{noise}) / \sqrt{(s^2_\text{pattern} + s^2_\text{noise})/2}$.
# Three controls use the same kernel: the push branch alone (alpha = 0, the plain rectified
# convolution), the pull branch alone ($-\alpha$ pull), and a **wide convolution** $\mathrm{ReLU}(k_{\uparrow h} * I)$:
# the support and smoothing of the pull without any inhibition. Two readouts: **rectified**, what the
# unit passes on when a ReLU follows (as in LeNet), and **signed**, what a following batch norm sees (as
# in ResNet). A rectified pull-only response is never positive, so that control scores 0 for every
# alpha, and a signed one has the same $d'$ for every alpha > 0: neither can rise just because alpha does.

# %%
edge_stimulus = edge_image(32, theta=0)
tables = {readout: detectability(layer, NOISE_LEVELS, alphas=[0.0, 0.5, 1.0, 2.0, 8.0], stimulus=edge_stimulus,
                                 trials=TRIALS, readout=readout) for readout in ("rectified", "signed")}
for readout, table in tables.items():
    fig = plot_detectability(table, alpha=1.0, level=0.2,
                             title=f"Gabor edge detector, {readout} readout: edge + noise vs noise alone")

# %%
summary = {readout: table[table["alpha"] != 0].assign(
               response=lambda t: t["response"] + t["alpha"].map(lambda a: "" if a != a else f", alpha={a:g}"))
           .pivot_table(index="response", columns="noise_level", values="d_prime").round(2)
           for readout, table in tables.items()}
display(summary["rectified"], summary["signed"])
rectified = tables["rectified"]
at_one = rectified[(rectified["response"] == "push-pull") & (rectified["alpha"] == 1.0)].set_index("noise_level")
push = rectified[rectified["response"] == "push only"].set_index("noise_level")
print("rectified readout, push-pull at alpha = 1 relative to the push branch alone, by noise level:\n"
      f"  mean response to noise alone:   {(at_one['noise'] / push['noise']).round(2).to_dict()}\n"
      f"  mean response to edge + noise:  {(at_one['signal'] / push['signal']).round(2).to_dict()}")

# %% [markdown]
# **The answer, for this kernel on its own: no, not clearly.** With the rectified readout push-pull does
# what the paper says at this unit: it suppresses the response to noise alone, by about a fifth, and keeps
# the response to the noisy edge (the lines printed above). But the response to noise alone was already
# small next to the response to the edge, so the two become hardly easier to tell apart: the detectability
# changes by a few percent at most, at any alpha, in either direction (the first table: slightly lower at
# low noise, slightly higher at sigma^2 = 0.5). With the signed readout push-pull is *worse* than the push alone, and more so the larger
# alpha: the pull kernel is not renormalised, so its noise response dominates the output. The wide
# convolution, pure smoothing, detects the large edge better than either. Notebook 03 asks the same
# of learned kernels, and notebooks 04 and 05 and `results/mnist` of whole networks, where the paper's
# robustness gains are measured.

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
# 2. Run `detectability` without `stimulus=` (each unit's matched stimulus: its own push kernel, a
#    small pattern instead of a large edge). Does push-pull help there, at which noise levels, and why
#    might the answer depend on the size of the pattern relative to the pull kernel?
# 3. Set `SCALE = 1` (pull = $-k$, the push kernel negated). What does the layer compute then, and why
#    does the paper prefer h = 2?
# 4. Replace Gaussian noise by salt-and-pepper (`corrupt_at_level(x, "impulse_noise", amount, generator)`).
#    Which noise does push-pull handle better, and why?
# 5. Read section 3.1 of the paper and write the pull kernel of a 3x3 push kernel at h = 2 by hand.
#    Check it against `layer.pull_weight`.

#
# ## What this shows, and what it does not
#
# - **Shows:** how the pull kernel is derived (up-sampled, negated, not renormalised); that push-pull
#   keeps the kernel's orientation preference and makes its output signed; that the pooled feature-map
#   SNR rewards alpha without bound because the output becomes the smooth pull branch; and that for
#   this one hand-made edge detector the fair test finds no clear gain in detecting its edge in noise.
# - **Does not show:** anything about learned kernels (notebook 03), about trained networks'
#   accuracy under noise (notebooks 04 and 05; the 3-seed, 90-epoch study in `results/mnist`, where
#   LeNet-A-PP is ahead of LeNet-A on every seed at sigma^2 = 0.2), or about layers after the first.
