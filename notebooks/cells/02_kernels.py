# %% [markdown]
# # 02 · Learned push kernels and the pull kernels they imply
#
# **Question.** What do the push kernels of a trained network's first layer look like, what pull
# kernels does the layer derive from them, and how does the scale h shape the pull kernel and its
# frequency response?
#
# Only the push kernel $k$ is learned. The pull kernel is $-k_{\uparrow h}$: each $s\times s$ slice
# of $k$ up-sampled bilinearly (corners aligned) to $\hat s \times \hat s$, with
# $\hat s = \lfloor s h \rfloor$ made odd, and negated. We look at LeNet-A-PP trained on MNIST by
# this project (shipped with the package) and, when the authors' checkpoints are on this machine,
# at their ResNet-20-PP trained on CIFAR-10.

# %% tags=["parameters"]
from pushpull_viz.notebook import notebook_settings, official_checkpoint

S = notebook_settings()  # PUSHPULL_MODE=quick|full and PUSHPULL_DATA=<data root> select these
SCALES = [1.5, 2.0, 3.0]  # pull scales h to compare (the paper uses h = 2)
RESNET_CHANNELS = range(8) if S["quick"] else range(16)
print(S["machine"])

# %%
%config InlineBackend.rc = {"figure.dpi": 110}  # embedded figures readable at their size
%matplotlib inline
from pushpull_viz.models import load_model_from_checkpoint
from pushpull_viz.pretrained import load_pretrained, pretrained_card
from pushpull_viz.viz import first_conv, plot_kernel_spectra, plot_kernels, plot_pull_upsampling

lenet_pp = load_pretrained("lenet-a-pp")
card = pretrained_card("lenet-a-pp")
print(f"LeNet-A-PP: {card['recipe']} recipe, seed {card['seed']}, "
      f"{100 * card['best_test_accuracy']:.2f}% MNIST test accuracy")
first_conv(lenet_pp)

# %% [markdown]
# ## LeNet-A-PP: six 5x5 push kernels and their 11x11 pull kernels
#
# One symmetric colour scale for push and pull (blue negative, red positive): the pull kernel is
# the push kernel's opposite, stretched from 5x5 to 11x11 pixels (2.2 times the width, 4.8 times the
# area), with the same weights at the same places relative to the kernel's extent.

# %%
fig = plot_kernels(lenet_pp)

# %% [markdown]
# ## How the pull kernel is made, and the effect of h
#
# Up-sampling keeps the kernel's corner values and interpolates in between, so a larger h gives
# a wider, smoother pull kernel. h = 1 would make the pull kernel $-k$, the push kernel negated.

# %%
for h in SCALES:
    fig = plot_pull_upsampling(lenet_pp, out_channel=0, scale=h)

# %% [markdown]
# ## Frequency responses
#
# Stretching a kernel in space compresses its spectrum: the pull kernel passes lower spatial
# frequencies than the push kernel, and, because it is not renormalised and has about 4.8 times as
# many taps, it passes them with a much larger gain (the radial profiles below: several times the
# push kernel's at low frequencies). Pixel noise is spread over all frequencies, so both branches
# respond to it; a step edge is broadband and heavy at low frequencies, so a pull responds strongly to
# an edge of the opposite polarity (notebook 01 shows this for a hand-made edge detector).

# %%
fig = plot_kernel_spectra(lenet_pp, channels=[0, 1, 2])

# %% [markdown]
# ## The authors' ResNet-20-PP (CIFAR-10)
#
# A 3x3 RGB push kernel per channel and its 7x7 pull kernel, from the authors' own checkpoint
# (trained on the original CIFAR-10). Shown when the checkpoint is available
# (`$PUSHPULL_CHECKPOINTS`, or `checkpoints/official` beside the data root).

# %%
path = official_checkpoint("resnet-20-pp", S["data_root"])
if path is None:
    print("The authors' checkpoints are not on this machine: skipped.")
else:
    resnet_pp = load_model_from_checkpoint(path).eval()
    fig = plot_kernels(resnet_pp, channels=list(RESNET_CHANNELS), max_input_channels=3)

# %%
if path is not None:
    fig = plot_kernel_spectra(resnet_pp, channels=[0, 1, 2])

# %% [markdown]
# **The answer.** Learned push kernels are small oriented edge, bar and blob detectors (5x5 in LeNet-A-PP,
# 3x3 RGB in ResNet-20-PP). Each pull kernel is the same pattern negated and stretched to the pull size
# (11x11 and 7x7 at h = 2): nothing about it is learned. A larger h makes it wider and smoother; its gain
# is concentrated at low spatial frequencies, where it is several times the push kernel's (for these
# ResNet kernels 6-8 times: the radial profiles above), and falls below the push's above roughly 0.2-0.3
# cycles per pixel. A pull with such a large low-frequency gain also responds to plain brightness, which
# notebook 03 finds in one of ResNet-20-PP's units.

# %% [markdown]
# ## Things to try
#
# 1. Compare the authors' plain ResNet-20 (`official_checkpoint("resnet-20")`) with ResNet-20-PP:
#    does training with a pull branch change what the push kernels look like?
# 2. Train LeNet-A-PP with `scale=1.5` and `scale=3` (notebook 04) and compare their push kernels.
# 3. Compute the pull kernel of one slice by hand with `torch.nn.functional.interpolate(...,
#    mode="bilinear", align_corners=True)` and check it against `first_conv(lenet_pp).pull_weight`.
# 4. From the radial profiles, estimate the frequency above which the pull kernel passes less than
#    10% of the push kernel's gain. How does it change with h?
#
# ## What this shows, and what it does not
#
# - **Shows:** what learned push kernels and the pull kernels derived from them look like, that the pull
#   is the push stretched and negated (nothing is learned for it), and that it passes lower frequencies
#   with a larger gain.
# - **Does not show:** whether these kernels make a network more robust (notebooks 03 and 05, and
#   `results/mnist`), or how they would differ with another seed: both networks here are single runs.
