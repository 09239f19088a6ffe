# %% [markdown]
# # 06 · Exercises: check yourself
#
# Thirteen exercises on the paper and the layer, at three levels (basic, intermediate, advanced), each
# with a learning objective and a time estimate (`docs/teaching.md` lists them all). Each exercise
# gives you a task and a variable to fill in, and a `check()` that says "correct", or what is wrong
# and by how much. When you are stuck, `ex.hint(1)`, `ex.hint(2)`, ... unblock you step by step. The
# checks compare your answer with the package's own implementation or the paper's numbers.
#
# This is the **student edition** if the answers below are `None`: replace each `None` by your answer
# and run the cell. (The instructor edition has the solutions in place; `ex.solution()` prints one.)

# %% tags=["parameters"]
from pushpull_viz.notebook import notebook_settings

S = notebook_settings()  # PUSHPULL_MODE=quick|full and PUSHPULL_DATA=<data root> select these
SEEDS = [0, 1] if S["quick"] else [0, 1, 2, 3, 4]     # paired seeds of the training exercise
EPOCHS = 1 if S["quick"] else 8                         # lenet-quick recipe: 8 epochs in full
TRAIN_IMAGES = 6000 if S["quick"] else None             # None: all 60,000 digits
print(S["machine"])

# %%
%config InlineBackend.rc = {"figure.dpi": 110}
%matplotlib inline
import math

import pandas as pd
import torch
import torch.nn.functional as F
import torchvision

from pushpull_viz import convert_to_pushpull
from pushpull_viz.data import load_dataset
from pushpull_viz.exercises import attribution_inputs, exercise, exercise_kernel, list_exercises
from pushpull_viz.layers import PushPull2d, pull_kernel_size
from pushpull_viz.models import build_model
from pushpull_viz.paper import paper_table2
from pushpull_viz.pretrained import load_pretrained
from pushpull_viz.robustness import ALEXNET_CIFAR_ERRORS, evaluate
from pushpull_viz.train import fit, seed_everything
from pushpull_viz.viz import attribute, attribution_overlap, plot_pull_upsampling

list_exercises()

# %% [markdown]
# ## Basic
#
# ### 1 · The pull-kernel size rule (10 min)
# *Objective: state the paper's rule for the pull kernel's side and why it is always odd.*
#
# Write `pull_size(s, h)`: the side of the pull kernel for a push kernel of side `s` at scale `h`
# (paper, section 3.1).

# %%
ex = exercise("pull-size")
### BEGIN SOLUTION
### STUB: pull_size = None  # YOUR ANSWER HERE: def pull_size(s, h): ...


def pull_size(s, h):
    if h == 1:
        return s
    size = math.floor(s * h)
    return size + 1 if size % 2 == 0 else size


### END SOLUTION
ex.check(pull_size)

# %% [markdown]
# ### 2 · The pull padding (10 min)
# *Objective: derive the padding that makes the push and pull outputs the same size.*
#
# Write `pull_padding(s, h, padding)`: the padding of the pull convolution, given the push
# convolution's `padding`. You may use `pull_kernel_size(s, h)`.

# %%
ex = exercise("pull-padding")
### BEGIN SOLUTION
### STUB: pull_padding = None  # YOUR ANSWER HERE: def pull_padding(s, h, padding): ...


def pull_padding(s, h, padding):
    return pull_kernel_size(s, h) // 2 - s // 2 + padding


### END SOLUTION
ex.check(pull_padding)

# %% [markdown]
# ### 3 · One pixel by hand (5 min)
# *Objective: apply the formula to numbers, signs included.*
#
# At one pixel, $k * I = 0.3$ and $k_{\uparrow h} * I = -0.5$. What does the layer output there for
# $\alpha = 1.5$?

# %%
ex = exercise("output-value")
### BEGIN SOLUTION
### STUB: output_value = None  # YOUR ANSWER HERE (a number)
output_value = max(0.3, 0) - 1.5 * max(0.5, 0)
### END SOLUTION
ex.check(output_value)

# %% [markdown]
# ### 4 · Read the pull kernel off a figure (5 min)
# *Objective: read a layer's geometry off `plot_pull_upsampling`.*
#
# The figure shows a 5x5 push kernel at h = 1.5. How many pixels wide is its pull kernel?

# %%
ex = exercise("read-pull-size")
torch.manual_seed(0)
layer = PushPull2d(1, 1, 5, padding=2, scale=1.5)
fig = plot_pull_upsampling(layer)
### BEGIN SOLUTION
### STUB: read_pull_size = None  # YOUR ANSWER HERE (an int)
read_pull_size = 7
### END SOLUTION
ex.check(read_pull_size)

# %% [markdown]
# ## Intermediate
#
# ### 5 · The pull kernel by hand (20 min)
# *Objective: build the pull kernel from the push kernel (bilinear, `align_corners=True`, negated).*
#
# Build the pull kernel of `exercise_kernel()` (a 3x3 edge detector, shape `(1, 1, 3, 3)`) at h = 2
# without `PushPull2d`. The check compares it with `layer.pull_weight`.

# %%
ex = exercise("pull-by-hand")
print(exercise_kernel())
### BEGIN SOLUTION
### STUB: pull_by_hand = None  # YOUR ANSWER HERE (a tensor)
pull_by_hand = -F.interpolate(exercise_kernel(), size=(7, 7), mode="bilinear", align_corners=True)
### END SOLUTION
ex.check(pull_by_hand)

# %% [markdown]
# ### 6 · The layer from the formula (25 min)
# *Objective: implement $P(I) = \mathrm{ReLU}(k * I) - \alpha\,\mathrm{ReLU}(-k_{\uparrow h} * I)$ and match `PushPull2d`.*
#
# Write `push_pull(x, weight, alpha, h)` for a 3x3 `weight` with padding 1 (outputs the size of the
# input), using only `F.conv2d`, `F.interpolate` and `F.relu`.

# %%
ex = exercise("formula")
### BEGIN SOLUTION
### STUB: push_pull = None  # YOUR ANSWER HERE: def push_pull(x, weight, alpha, h): ...


def push_pull(x, weight, alpha, h):
    s_hat = pull_kernel_size(weight.shape[-1], h)
    pull = -F.interpolate(weight, size=(s_hat, s_hat), mode="bilinear", align_corners=True)
    push_out = F.relu(F.conv2d(x, weight, padding=1))
    pull_out = F.relu(F.conv2d(x, pull, padding=s_hat // 2))
    return push_out - alpha * pull_out


### END SOLUTION
ex.check(push_pull)

# %% [markdown]
# ### 7 · mCE from Table 2 (15 min)
# *Objective: compute the corruption error normalised by AlexNet, as the paper does.*
#
# From the paper's Table 2 errors of ResNet-20-PP (`paper_table2(["ResNet-20-PP"])`, errors as
# fractions) and the CIFAR AlexNet's (`ALEXNET_CIFAR_ERRORS`), compute its mCE in percent.

# %%
ex = exercise("mce")
table = paper_table2(["ResNet-20-PP"])
errors = table[table.corruption != "clean"].set_index("corruption")["error"]
### BEGIN SOLUTION
### STUB: mce = None  # YOUR ANSWER HERE (a number, AlexNet = 100)
mce = 100 * sum(errors[c] / ALEXNET_CIFAR_ERRORS[c] for c in errors.index) / len(errors)
### END SOLUTION
ex.check(mce)

# %% [markdown]
# ### 8 · Relative mCE (10 min)
# *Objective: separate robustness from clean accuracy.*
#
# The same for relative mCE. ResNet-20-PP's clean error is in the same table; AlexNet's is
# `ALEXNET_CIFAR_ERRORS["clean"]`.

# %%
ex = exercise("relative-mce")
### BEGIN SOLUTION
### STUB: relative_mce = None  # YOUR ANSWER HERE (a number)
clean = table.set_index("corruption").loc["clean", "error"]
relative_mce = 100 * sum((errors[c] - clean) / (ALEXNET_CIFAR_ERRORS[c] - ALEXNET_CIFAR_ERRORS["clean"])
                         for c in errors.index) / len(errors)
### END SOLUTION
ex.check(relative_mce)

# %% [markdown]
# ### 9 · Where push-pull helps (15 min)
# *Objective: read a per-corruption table for where the layer helps and where it costs.*
#
# Which corruptions does ResNet-20-PP improve by **more than 2 points** of error over ResNet-20 in the
# paper's Table 2? Answer with a set of names such as `{"gaussian_noise", ...}`.

# %%
ex = exercise("where-helps")
### BEGIN SOLUTION
### STUB: where_helps = None  # YOUR ANSWER HERE (a set of corruption names)
t = paper_table2(["ResNet-20", "ResNet-20-PP"]).pivot_table(index="corruption", columns="model", values="error") * 100
where_helps = set(t.index[(t["ResNet-20"] - t["ResNet-20-PP"]) > 2]) - {"clean"}
### END SOLUTION
ex.check(where_helps)

# %% [markdown]
# ## Advanced
#
# ### 10 · The gain of push-pull, over paired seeds (30 min; a few minutes of CPU in quick mode)
# *Objective: measure an effect with its spread (paired seeds, per-seed differences, mean and sd).*
#
# Train LeNet-A plain and push-pull on each seed of `SEEDS` with the `lenet-quick` recipe (`EPOCHS`
# epochs on `TRAIN_IMAGES` digits in quick mode), test each at σ² = 0.2 (`severities=[5]` of
# `mnist_gaussian_noise`), and hand in `{"table": ..., "mean": ..., "std": ...}`. The table has the
# columns `seed, pushpull, accuracy`; the mean and standard deviation are of the per-seed gains in
# points (push-pull minus plain).

# %%
ex = exercise("paired-gain")
train = load_dataset("mnist", "train", S["data_root"])
test = load_dataset("mnist", "test", S["data_root"])
if TRAIN_IMAGES:
    train = train.subset(torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:TRAIN_IMAGES])
### BEGIN SOLUTION
### STUB: paired_gain = None  # YOUR ANSWER HERE: {"table": ..., "mean": ..., "std": ...}
rows = []
for seed in SEEDS:
    for pushpull in (False, True):
        seed_everything(seed)
        model = fit(build_model("lenet-a", pushpull=pushpull), (train, test), "lenet-quick", epochs=EPOCHS,
                    seed=seed, progress=False).model
        result = evaluate(model, test.images, test.labels, ["mnist_gaussian_noise"], severities=[5], progress=False)
        rows.append({"seed": seed, "pushpull": pushpull,
                     "accuracy": result[result.corruption != "clean"]["accuracy"].iloc[0]})
gain_table = pd.DataFrame(rows)
gains = 100 * (gain_table[gain_table.pushpull].set_index("seed")["accuracy"]
               - gain_table[~gain_table.pushpull].set_index("seed")["accuracy"])
paired_gain = {"table": gain_table, "mean": gains.mean(), "std": gains.std()}
### END SOLUTION
ex.check(paired_gain)

# %% [markdown]
# ### 11 · Convert a torchvision ResNet-18 (15 min)
# *Objective: convert a model and check what carried over.*
#
# Make a `torchvision.models.resnet18(weights=None)`, give it a push-pull first layer with
# `convert_to_pushpull`, and hand in `(original, converted)`.

# %%
ex = exercise("convert")
### BEGIN SOLUTION
### STUB: convert = None  # YOUR ANSWER HERE: (original, converted)
original = torchvision.models.resnet18(weights=None)
convert = (original, convert_to_pushpull(original))
### END SOLUTION
ex.check(convert)

# %% [markdown]
# ### 12 · Does noise move where the networks look? (20 min)
# *Objective: answer an attribution question with a number and its definition.*
#
# For the eight images of `attribution_inputs()` (clean, and with Gaussian noise σ² = 0.2), compute for the
# shipped `lenet-a-paper` and `lenet-a-pp-paper` the mean clean-vs-noisy overlap
# (`attribution_overlap`, top 10%) of their saliency maps (`attribute(..., method="saliency")`), with
# each model's clean prediction as the target. Hand in `{"lenet-a-paper": ..., "lenet-a-pp-paper": ...}`.

# %%
ex = exercise("attribution")
clean_images, noisy_images = attribution_inputs()
### BEGIN SOLUTION
### STUB: attribution = None  # YOUR ANSWER HERE: {"lenet-a-paper": ..., "lenet-a-pp-paper": ...}
attribution = {}
for name in ("lenet-a-paper", "lenet-a-pp-paper"):
    model = load_pretrained(name).eval()
    target = model(clean_images).argmax(1)
    maps = [attribute(model, x, target=target, method="saliency") for x in (clean_images, noisy_images)]
    attribution[name] = attribution_overlap(*maps).mean().item()
### END SOLUTION
ex.check(attribution)

# %% [markdown]
# ### 13 · A research question (45 min, marked by hand)
# *Objective: argue from evidence: a claim, the figure or table that supports it, and its limit.*
#
# The pull kernel is not renormalised: at h = 2 it has about 5x the push kernel's taps. Would
# normalising it change the conclusions of the paper's Table 4 (notebook 00)? Argue in 80-300 words.
# The check only confirms that you submitted; the rubric is in `docs/teaching.md`.

# %%
ex = exercise("open-question")
### BEGIN SOLUTION
### STUB: open_question = None  # YOUR ANSWER HERE (text)
open_question = (
    "Normalising the pull would rescale alpha rather than change what the layer can compute. The pull "
    "response is a linear function of the input, so dividing the pull kernel by a constant c is the same "
    "as using alpha / c with the unnormalised kernel. A per-h normalisation, however, changes which alpha "
    "each h row of Table 4 effectively uses: at h = 2 the pull has about 5x the taps of the push, so "
    "alpha = 1 there is a much stronger inhibition than alpha = 1 at h = 1.5. The table's conclusion that "
    "h = 1.5 and 2 beat h = 1 would likely survive, since the effective alphas still span a range, but "
    "the ranking of alpha values within an h could shift. The limit: Table 4 has one run per cell and "
    "its own alpha = 1, h = 1 row (the plain network in disguise) shows training noise of up to 6 points."
)
### END SOLUTION
ex.check(open_question)

# %% [markdown]
# ## What this shows, and what it does not
#
# - **Shows:** whether your answers agree with the package's implementation and the paper's numbers,
#   with tolerances stated in each check's message.
# - **Does not show:** that an answer that passes was reasoned well (the research question is marked
#   by hand), or anything beyond the quick-mode training budget for exercise 10 (two seeds of one
#   epoch cannot tell a gain from noise; run it with `PUSHPULL_MODE=full` for five seeds of eight).
