# %% [markdown]
# # 00 · The paper in twenty minutes
#
# **Strisciuglio, Lopez-Antequera, Petkov (2020), "Enhanced robustness of convolutional networks with a
# push-pull inhibition layer", Neural Computing and Applications 32:17957-17971.**
#
# A journal-club walk through the paper's argument. The motivation comes first, then the cell in the
# visual cortex, the layer, the experiments as figures, the cost and what came after. It ends with
# questions and limits. Every figure draws the paper's own numbers from `pushpull_viz.paper`, with page
# references. Where this project has measured the same thing, its numbers sit beside the paper's,
# labelled with the data they come from.
#
# Run it top to bottom, or present it as slides: `make slides` (code hidden), or
# `pushpull-viz explorer` for the live alpha/noise demo that needs no Python.

# %% tags=["parameters"]
from pushpull_viz.notebook import notebook_settings

S = notebook_settings()  # PUSHPULL_MODE=quick|full selects these
TRIALS = 200 if S["quick"] else 1000  # noise draws per level for the detectability measure
NOISE_LEVELS = [0.0, 0.01, 0.05, 0.1, 0.2, 0.5]  # Gaussian noise variances on [0, 1] images
print(S["machine"])

# %%
%config InlineBackend.rc = {"figure.dpi": 110}
%matplotlib inline
from pathlib import Path

import pandas as pd

from pushpull_viz.models import build_model
from pushpull_viz.paper import PAPER_CITATION, paper_summary
from pushpull_viz.pretrained import load_pretrained
from pushpull_viz.viz import (
    detectability,
    edge_image,
    gabor_kernel,
    plot_corruption_differences,
    plot_detectability,
    plot_learned_alpha,
    plot_mnist_study,
    plot_noise_ramp,
    plot_pair_mce,
    plot_pull_upsampling,
    plot_sensitivity,
    pushpull_from_kernel,
)

RESULTS = Path("..") / "results"  # this project's measurements (committed tables)
print(PAPER_CITATION)

# %% [markdown]
# ## 1 · Motivation: accuracy did not bring robustness
#
# - CNNs kept getting more accurate on clean test sets, but not more robust to corruptions they never saw
#   in training: noise, blur, weather, compression (Hendrycks & Dietterich's CIFAR-10-C, 19 corruptions
#   x 5 severities).
# - Data augmentation helps only with the corruptions it contains. The paper asks instead for a change
#   in the architecture that makes a network less sensitive to noise whatever the training data.
# - The paper's own numbers make the point. Its plain ResNet-20 has 7.56% error on clean CIFAR-10
#   images but 30.29% averaged over all CIFAR-10-C corruptions and severities (the paper's **E_corr**),
#   and 57.41% under Gaussian noise (Tables 2 and 3, p. 10).
#
# The question of the paper: **can a layer modelled on inhibition in the visual cortex make CNNs more
# robust to unseen corruptions, at no cost in parameters?**

# %% [markdown]
# ## 2 · The V1 push-pull cell and the layer
#
# Many simple cells in the primary visual cortex respond to an edge of one polarity (*push*) and are
# inhibited by the opposite polarity at the same place (*pull*). In the cortex the pull is wider and
# weaker, and it makes the cell's response to noise smaller while keeping its response to edges. The
# layer writes this as
#
# $$P(I) = \mathrm{ReLU}(k * I) - \alpha\,\mathrm{ReLU}(-k_{\uparrow h} * I)$$
#
# - $k$ is the learned push kernel, the only learned weights;
# - $k_{\uparrow h}$ is $k$ up-sampled by $h$ (bilinear; $h = 2$ turns 3x3 into 7x7), and the pull
#   kernel is its negative;
# - $\alpha$ is the inhibition strength. Every main result uses $h = 2$, $\alpha = 1$, and replaces
#   **only the first convolution** of a network.
# - Unlike the cortex's, the layer's pull is not weaker: it is not renormalised, so at $h = 2$ it
#   has about 5x the push kernel's taps (question 2 at the end).

# %% [markdown]
# ### One learned kernel and its pull
#
# The strongest first-layer kernel of a LeNet-A-PP trained by this project on MNIST with the paper's
# recipe (`load_pretrained("lenet-a-pp-paper")`), and the pull kernel derived from it on every forward
# pass.

# %%
lenet_pp = load_pretrained("lenet-a-pp-paper")
strongest = int(lenet_pp.conv1.push.weight.detach().flatten(1).norm(dim=1).argmax())
fig = plot_pull_upsampling(lenet_pp.conv1, out_channel=strongest)

# %% [markdown]
# ### One edge detector across a noise ramp
#
# In the spirit of the paper's Figs. 2 and 3: a V1-like Gabor edge detector (7x7, pull 15x15) on a
# vertical edge with Gaussian noise of increasing variance (the same noise pattern in every column,
# scaled to each variance). Both response rows share **one** colour scale, topped by the strongest
# response. The push-pull output is shown rectified, as a LeNet's next layer sees it (its first layer
# is followed by a ReLU).

# %%
layer, conv = pushpull_from_kernel(gabor_kernel(7, theta=0, wavelength=8, phase=-90))
fig = plot_noise_ramp(layer, conv, edge_image(46), NOISE_LEVELS)

# %% [markdown]
# **What it shows, and what it does not.** By eye, the two rows are hard to tell apart. Push-pull takes
# a little off the noise blobs, and the edge keeps its strength. A picture cannot say whether the edge
# became easier to detect, so the next figure measures it. It asks how well a unit tells "edge +
# noise" from "noise alone" (the detectability d', notebook 01; large here because it pools the
# unit's response along the whole edge). The controls are push only (alpha = 0), pull only (which
# cannot see the edge at all: its line is zero by construction) and a plain convolution as wide as
# the pull, so that "it is just smoothing" can be ruled in or out.

# %%
table = detectability(layer, [v for v in NOISE_LEVELS if v > 0], alphas=[0.0, 1.0, 2.0],
                      stimulus=edge_image(46), trials=TRIALS)
fig = plot_detectability(table, alpha=1.0, level=0.2,
                         title="Gabor edge detector: can it tell an edge in noise from noise alone?")

# %% [markdown]
# **What it shows: no gain for this unit.** Push-pull (blue) and push only (orange) lie on top of each
# other at every noise level, and at the three alphas tried at σ² = 0.2: the pull adds no
# detectability for this edge. The wide convolution, which is pure smoothing, detects this large edge
# better than either. A ResNet's next layer (batch norm) sees the *signed* output, and with that
# readout push-pull is worse than push alone (notebook 01). The paper's claim is about trained
# networks, which the rest of this notebook looks at.

# %% [markdown]
# ## 3 · The experiments as figures
#
# ### CIFAR-10-C, Table 3: every architecture, plain -> push-pull
#
# mCE: the corruption errors divided by a CIFAR AlexNet's, then averaged (AlexNet = 100). Relative mCE
# does the same with each error's increase over the clean error. Lower is better. Below the line: this
# project's measurements on the JPEG-75 copy of CIFAR-10, the only CIFAR this project has offline. Their
# level is not comparable with the paper's (JPEG artefacts raise every error); their direction is.

# %%
ours = pd.read_csv(RESULTS / "cifar10-jpeg75" / "summary.csv").set_index("model")
official = pd.read_csv(RESULTS / "official_cifar10c" / "official_cifar10c_1000_summary.csv").set_index("model")
metrics = ["mCE", "relative_mCE"]
extra = [
    {"label": "ResNet-20, authors' weights\n(JPEG-75 CIFAR-10-C, 10k images)",
     "plain": ours.loc["ResNet-20 (authors)", metrics], "pushpull": ours.loc["ResNet-20-PP (authors)", metrics]},
    {"label": "DenseNet-40-12, authors' weights\n(JPEG-75 CIFAR-10-C, 1k images)",
     "plain": official.loc["densenet-40-12", metrics], "pushpull": official.loc["densenet-40-12-pp", metrics]},
    {"label": "ResNet-20 trained here on JPEG-75\n(JPEG-75 CIFAR-10-C, 10k, 1 seed)",
     "plain": ours.loc["ResNet-20 (this project)", metrics],
     "pushpull": ours.loc["ResNet-20-PP (this project)", metrics]},
]
fig = plot_pair_mce(extra)

# %%
summary = paper_summary(learned_alpha=False).set_index("model")
gains = pd.DataFrame([{"pair": m, "clean error change (points)": 100 * (summary.loc[f"{m}-PP", "clean_error"]
                                                                          - summary.loc[m, "clean_error"]),
                       "mCE change": summary.loc[f"{m}-PP", "mCE"] - summary.loc[m, "mCE"],
                       "relative mCE change": summary.loc[f"{m}-PP", "relative_mCE"] - summary.loc[m, "relative_mCE"]}
                      for m in summary.index if f"{m}-PP" in summary.index])
gains.round(2)

# %% [markdown]
# **What it shows.**
# - In the paper every pair moves left: push-pull lowers mCE by 3 to 12 and relative mCE by 11 to 27.
#   In 6 of the 7 pairs the clean error goes up a little (+0.1 to +0.75 points); only ResNet-32's
#   goes down (table above).
# - **Does the gain grow with capacity? Not clearly.** ResNet-20 gains 3 points of mCE, ResNet-32 12,
#   ResNet-44 and -56 6 each. The DenseNets gain 7, 6 and 11. The largest DenseNet gains most in
#   relative mCE (27), but so does ResNet-32 (26).
# - On this project's data (below the line), the authors' ResNet-20 pair moves the same way, and
#   further (-12 mCE against the paper's -3). Most of that comes from the JPEG shift: on the JPEG-75
#   copy the push-pull model also has the lower clean error (17.2% against 19.1%).
# - The DenseNet-40-12 row uses only 1,000 images. At that size one clean error has a standard error
#   of about 1.3 points, and relative mCE moves about 9.5 per point of clean error, so its +4 is
#   within noise. (On the same 1,000 images the authors' ResNet-20 pair gives -2 relative mCE, not
#   -12.)
# - The pair this project trained moves only a little (-1 mCE, -5 relative mCE, one seed;
#   `results/cifar10-jpeg75/README.md`).

# %% [markdown]
# ### Table 2: where push-pull helps and where it costs
#
# Push-pull minus plain error for each corruption (mean over the 5 severities). Blue: push-pull better.

# %%
results = pd.read_csv(RESULTS / "cifar10-jpeg75" / "results.csv")
per = results[results["corruption"] != "clean"].groupby(["model", "corruption"])["error"].mean() * 100
difference = {
    "ResNet-20, authors' weights, JPEG-75 (10k)": (per["ResNet-20-PP (authors)"]
                                                   - per["ResNet-20 (authors)"]).to_dict(),
    "ResNet-20 trained here, JPEG-75 (1 seed)": (per["ResNet-20-PP (this project)"]
                                                - per["ResNet-20 (this project)"]).to_dict(),
}
fig = plot_corruption_differences(difference)

# %% [markdown]
# **What it shows.**
# - The four noise corruptions (left) are blue in every pair of the paper, by 3 to 16 points.
# - Blur, weather and digital corruptions are mixed. DenseNet-40-12-PP is 6 points worse on glass
#   blur, and contrast is worse for 6 of the 7 pairs (by 1 to 3 points).
# - The authors' ResNet-20 pair on this project's JPEG-75 images is blue almost everywhere, because the
#   JPEG artefacts are themselves a corruption.
# - The pair trained here is pale: the noise gains are 0.8-2.0 points, and motion blur costs 1.6 points.

# %% [markdown]
# ### Table 4: alpha and h
#
# The paper tunes the inhibition on a small ResNet-14 on CIFAR-10 with Gaussian noise (left). This
# project ran the same kind of sweep with LeNet-A on MNIST (right; 12 epochs, one seed, so read it
# as a sketch). At h = 1 the pull kernel is the push kernel. There LeNet's ReLU after the first
# layer makes every alpha compute the plain network, so those rows repeat the plain one.

# %%
sweep = pd.read_csv(RESULTS / "mnist-12ep" / "sweep.csv")
sweep = sweep.groupby(["alpha", "scale", "corruption", "level"], dropna=False, as_index=False)["accuracy"].mean()
fig = plot_sensitivity(sweep, "LeNet-A on MNIST, 12 epochs, seed 0")

# %% [markdown]
# **What it shows.**
# - **A yardstick for noise in the table itself.** At α = 1, h = 1 the layer computes exactly the plain
#   convolution (the pull kernel is the push kernel, and ReLU(x) − ReLU(−x) = x; batch norm follows
#   in a ResNet). So that row differs from "plain" only by training noise, and it does by up to 6.3
#   points (71.2% against 77.5% at σ² = 0.01).
# - Against that yardstick, h = 1.5 and h = 2 cut the error at the two strongest noise levels
#   (σ² = 0.005 and 0.01) by 12 to 19 points: larger than the noise, though not by a wide margin. The
#   h = 1 rows stay within it.
# - On clean images 8 of the 9 push-pull rows are slightly worse than plain (3.99-4.55% against 4.09%).
# - The paper's own choice, α = 1, h = 2, is not the best row of its table. It is the worst h = 2 row
#   at the two strongest noise levels and has the highest clean error.
# - The MNIST panel is one seed at 12 epochs. Its plain run is weak (2.2% clean error, against
#   0.7-1.4% for every h ≥ 1.5 model), and the h = 1 rows are copies of it. So read it as "which
#   settings are not worse than plain", not as a ranking: α = 2, h = 1.5 is worse at the strongest
#   noise, and α = 0.5, h = 1.5 is no better.

# %% [markdown]
# ### Table 5: learning alpha per channel

# %%
fig = plot_learned_alpha()

# %% [markdown]
# **What it shows.** E_corr is the mean error over all corruptions and severities. A learned alpha per
# channel does not beat the fixed alpha = 1 on corruptions (ResNet-20: 31.1% against 29.4%, worse
# than the plain 30.3%; ResNet-56: 26.8% against 26.2%). Its clean error is lower than the fixed
# alpha's for both (7.9 against 8.3, 6.5 against 7.0). These are single runs, with gaps below the
# training noise that Table 4's yardstick suggests. The paper keeps alpha fixed.

# %% [markdown]
# ### MNIST (section 4.1): the paper's single runs beside three seeds
#
# LeNets A-D with a plain and a push-pull first layer, trained by this project with the paper's
# recipe (90 epochs, 3 seeds each; `results/mnist/README.md`).

# %%
fig = plot_mnist_study(pd.read_csv(RESULTS / "mnist" / "summary.csv"), "paper's recipe, mean ± sd of 3 seeds")

# %% [markdown]
# **What it shows.**
# - Clean accuracy: push-pull costs nothing. All eight models score 98.9-99.2% here, against
#   98.6-99.1% in the paper.
# - Under noise (σ² = 0.2), the seed spread is as large as the effect: LeNet-A's three seeds have a
#   standard deviation of 8 points.
# - Push-pull is ahead on every seed for A and B (by 6-7 points on average) and for C (by 0.9), and
#   not for D (-0.5, ahead on 1 of 3 seeds).
# - On the noise panel, six of the paper's eight single-run points sit inside this project's ±1 sd
#   (B at its edge). C and PC, whose seeds agree closely, are 1.4 and 3.3 points off.
# - On clean digits, all eight of the paper's points are below this project's means, most by more than
#   one sd. One run per model cannot separate the layers.

# %% [markdown]
# ## 4 · What it costs
#
# "No additional parameters", and a cost the paper calls negligible.

# %%
plain, pushpull = build_model("resnet20"), build_model("resnet20", pushpull=True)
count = {name: sum(p.numel() for p in model.parameters())
         for name, model in (("plain", plain), ("push-pull", pushpull))}
first = pushpull.conv1
push_macs = first.out_channels * first.in_channels * first.push.kernel_size[0] * first.push.kernel_size[1] * 32 * 32
pull_macs = first.out_channels * first.in_channels * first.pull_kernel_size[0] * first.pull_kernel_size[1] * 32 * 32
print(f"parameters: ResNet-20 {count['plain']:,}, ResNet-20-PP {count['push-pull']:,}")
print(f"first layer, 32x32 image: push {push_macs / 1e6:.2f} M multiply-adds, pull {pull_macs / 1e6:.2f} M "
      f"({(push_macs + pull_macs) / push_macs:.1f}x the plain layer, by the formula)")

# %% [markdown]
# **What it shows.**
# - The parameter count is the same.
# - Computed directly, the formula costs 6.4x a plain first layer, because the pull is a 7x7
#   convolution. The first layer is a small part of ResNet-20, though.
# - Measured: a whole training step of PP-ResNet-20 takes 1.04-1.06x the plain one on this project's
#   2-core CPU, and 1.04-1.09x on an H100 (AMP; `docs/benchmarks.md`).
# - "Negligible" holds to about 5-10%.

# %% [markdown]
# ## 5 · What came after: PushPull-Net (ICPR 2024)
#
# Bennabhaktula, Alegre, Strisciuglio, Azzopardi changed the pull for ImageNet ResNets:
# - the pull kernel has the **same size** as the push kernel, `pull = -W + max(W) + min(W)`;
# - the pull response is **average-pooled** (3x3 or 5x5) before its ReLU.
#
# ImageNet ResNet-50: clean error 26.9% -> 28.2%, mean corruption error over 15 ImageNet-C corruptions
# 66.7% -> 64.5% (with PRIME augmentation 52.2% -> 50.0%), as reported by Bennabhaktula et al., ICPR
# 2024 (arXiv 2408.04077). This project has not reproduced them.
#
# In this package: `build_model("resnet20", pushpull=True, variant="2024")`, or for any layer
# `create_pushpull(in_channels, out_channels, kernel_size, variant="2024")`.

# %%
variant = build_model("resnet20", pushpull=True, variant="2024")
variant.conv1

# %% [markdown]
# ## 6 · Questions for discussion, and the limits of the evidence
#
# **Questions**
# 1. The layer helps most on noise and is mixed on blur. Is that what a V1 push-pull cell predicts,
#    or what any low-pass pull would do?
# 2. The pull is not normalised: at h = 2 it has about 5x the push kernel's taps. Is alpha = 1 then
#    "one to one", and would a normalised pull change Table 4?
# 3. Only the first layer is replaced. What would push-pull deeper in the network mean?
# 4. Push-pull vs augmentation: do they add up (PushPull-Net with PRIME suggests yes)?
#
# **Limits**
# - The paper reports one training run per model. This project's MNIST study shows a seed spread of
#   several points under noise, as large as many of the differences in Tables 2-4.
# - Clean error rises for 6 of the 7 CIFAR pairs, so part of the mCE gain may trade clean accuracy for
#   robustness. Relative mCE, which subtracts the clean error, still favours push-pull in the paper.
# - This project's CIFAR numbers come from a lossy JPEG-75 copy of CIFAR-10 and regenerated
#   corruptions, and the pair it trained is a single seed of a shorter recipe.
#
# **The answer to the paper's question, as far as these figures go:**
# - Yes for noise, in every CIFAR pair of the paper and in every CIFAR pair checked here.
# - On MNIST, yes for LeNets A, B and C on every seed, but not for D.
# - Not clearly for the other corruptions.
# - Not for a single hand-made unit.
