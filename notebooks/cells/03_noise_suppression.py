# %% [markdown]
# # 03 · Noise suppression in learned feature maps
#
# **Question.** Notebook 01 showed a hand-made kernel. Do *learned* push-pull first layers also
# respond less to noise than plain ones, on handwritten digits and on photographs, and how does
# that depend on alpha and on the noise level?
#
# We compare the first layers of two LeNet-A networks trained on MNIST by this project (plain and
# push-pull, shipped with the package) and, when available, the authors' ResNet-20 and
# ResNet-20-PP trained on CIFAR-10. The measure is the feature-map signal-to-noise ratio:
# energy of the response to the clean image over the energy of the change caused by the noise.

# %% tags=["parameters"]
from pushpull_viz.notebook import notebook_settings, official_checkpoint

S = notebook_settings()  # PUSHPULL_MODE=quick|full and PUSHPULL_DATA=<data root> select these
N_IMAGES = 200 if S["quick"] else 2000
NOISE_VARIANCES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5]  # the paper's MNIST Gaussian suite
ALPHAS = [0.0, 0.5, 1.0, 2.0]
print(S["machine"])

# %%
%config InlineBackend.rc = {"figure.dpi": 80}  # smaller embedded figures
%matplotlib inline
import torch
from IPython.display import display

from pushpull_viz.corruptions import corrupt
from pushpull_viz.data import load_cifar10_jpeg75, load_dataset
from pushpull_viz.models import load_model_from_checkpoint
from pushpull_viz.pretrained import load_pretrained
from pushpull_viz.viz import feature_snr, plot_feature_maps, plot_snr_curves, pushpull_explorer

lenet, lenet_pp = load_pretrained("lenet-a"), load_pretrained("lenet-a-pp")
digits = load_dataset("mnist", "test", S["data_root"], download=S["data_root"] is None).images[:N_IMAGES]
digit = digits[0]
noisy_digit = corrupt(digit[None], "mnist_gaussian_noise", 5, torch.Generator().manual_seed(0))[0]  # sigma^2 = 0.2

# %% [markdown]
# ## Feature maps of a digit, clean and with noise (sigma^2 = 0.2)
#
# The plain first layer passes the noise through as speckle wherever its kernels find a matching
# local pattern; in the push-pull layer's output part of that is cancelled by the pull response.

# %%
fig = plot_feature_maps({"LeNet-A": lenet, "LeNet-A-PP": lenet_pp}, digit, noisy_digit, channels=[0, 1, 2, 3],
                        noise_label="Gaussian noise, sigma^2 = 0.2")

# %% [markdown]
# ## Signal-to-noise of the first layer against the noise level
#
# Every curve sees the same noise draws. The push-pull layer is evaluated at several alphas
# (alpha = 0: its rectified push alone); the plain LeNet-A's first layer is the dashed line.
# Note that the two networks learned different kernels, so the dashed line and alpha = 0 differ.

# %%
snr = feature_snr({"LeNet-A-PP": lenet_pp, "LeNet-A": lenet}, digits, NOISE_VARIANCES, alphas=ALPHAS)
fig = plot_snr_curves(snr, title="First-layer feature SNR on MNIST test digits")
snr.pivot_table(index=["layer", "alpha_label"], columns="noise_level", values="snr_db", sort=False).round(1)

# %% [markdown]
# ## Photographs: the authors' ResNet-20 and ResNet-20-PP
#
# CIFAR-10-C Gaussian noise, severities 1-5, on test photographs of the JPEG-75 CIFAR-10 copy
# (when the data and the authors' checkpoints are on this machine).

# %%
paths = {name: official_checkpoint(name, S["data_root"]) for name in ("resnet-20", "resnet-20-pp")}
photos = None
if None in paths.values() or S["data_root"] is None:
    print("The authors' checkpoints or the CIFAR-10 JPEG copy are not on this machine: skipped.")
else:
    resnets = {name: load_model_from_checkpoint(path).eval() for name, path in paths.items()}
    photos, _ = load_cifar10_jpeg75("test", S["data_root"], per_class=N_IMAGES // 10)
    photo_snr = feature_snr({"ResNet-20-PP": resnets["resnet-20-pp"], "ResNet-20": resnets["resnet-20"]}, photos,
                            [1, 2, 3, 4, 5], alphas=ALPHAS, corruption="gaussian_noise", as_severity=True)
    fig = plot_snr_curves(photo_snr, title="First-layer feature SNR on CIFAR-10 photographs")

# %%
if photos is not None:
    noisy_photo = corrupt(photos[:1], "gaussian_noise", 5, torch.Generator().manual_seed(0))[0]
    fig = plot_feature_maps({"ResNet-20": resnets["resnet-20"], "ResNet-20-PP": resnets["resnet-20-pp"]},
                            photos[0], noisy_photo, channels=[0, 1, 2, 3], noise_label="gaussian_noise, severity 5")

# %% [markdown]
# ## Explore
#
# The LeNet-A-PP first layer on one digit: change alpha, h and the noise variance.
# (Widgets need a running kernel: a static rendering, e.g. on a code-hosting site, cannot show them.)

# %%
display(pushpull_explorer(lenet_pp, digit, noise_level=0.2, max_noise=0.5))

# %% [markdown]
# ## Things to try
#
# 1. Which alpha maximises the first-layer SNR at sigma^2 = 0.2? Does a higher feature SNR mean a
#    higher classification accuracy (compare with notebook 05)?
# 2. Repeat the SNR curves with `corruption="mnist_poisson_contrast"` (levels are contrasts C).
# 3. Measure the SNR after the *second* convolution (hint: a forward hook on `conv2`). Does the
#    advantage of the push-pull first layer survive one layer deeper?
# 4. For the ResNets, try `corruption="impulse_noise"` and `"defocus_blur"`. On which corruption
#    does push-pull help least, and does that match the paper's Table 2?
