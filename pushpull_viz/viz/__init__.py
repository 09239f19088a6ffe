"""Visual analysis: figures from tidy result tables and from models, and interactive explorers.

Functions return a matplotlib ``Figure`` (never ``plt.show()``) and never train anything; the
pure computation behind each figure or widget is a separate, tested function.

Modules:
    plots: training curves, accuracy against corruption level, corruption examples.
    kernels: push kernels, derived pull kernels, the up-sampling step, frequency responses.
    features: push / pull / output feature maps and the feature-map signal-to-noise ratio.
    suppression: can a unit tell its preferred pattern from noise (d'), with push-only, pull-only and
        wide-convolution controls.
    robustness_plots: error against severity, mCE bars and per-corruption errors beside the paper's.
    attribution: Captum attribution maps (one call shape) drawn on shared colour scales.
    widgets: ipywidgets explorers (alpha, h, noise, corruption and severity) that redraw in place.
    stimuli: a Gabor kernel, gratings, edges and bars for the intuition notebook and the explorer.
    paper_plots: the paper's tables as figures, with this project's numbers beside them (notebook 00).
    explorer_html: a self-contained HTML page with alpha and noise sliders (no Python needed).
"""

from .attribution import (
    METHODS,
    attribute,
    attribution_overlap,
    attribution_summary,
    gradcam_layer,
    plot_attributions,
    to_heatmap,
)
from .explorer_html import write_explorer_html
from .features import (
    FeatureMapPlot,
    feature_snr,
    layer_responses,
    plot_feature_maps,
    plot_snr_curves,
    pushpull_output,
    snr_db,
)
from .kernels import (
    first_conv,
    kernel_montage,
    kernel_spectrum,
    plot_kernel_spectra,
    plot_kernels,
    plot_pull_upsampling,
    radial_profile,
    spectrum_frequencies,
)
from .paper_plots import (
    plot_corruption_differences,
    plot_learned_alpha,
    plot_mnist_study,
    plot_noise_ramp,
    plot_pair_mce,
    plot_sensitivity,
)
from .plots import plot_accuracy_vs_level, plot_corruption_examples, plot_training_curves
from .robustness_plots import plot_corruption_errors, plot_error_vs_severity, plot_mce_bars
from .stimuli import bar_image, edge_image, gabor_kernel, grating, pushpull_from_kernel
from .suppression import detectability, plot_detectability, preferred_stimulus, response_variants
from .widgets import (
    CorruptionExplorer,
    CorruptionFrames,
    PushPullExplorer,
    PushPullFrames,
    corruption_explorer,
    corruption_frame,
    pushpull_explorer,
    pushpull_frame,
)

__all__ = [
    "METHODS", "CorruptionExplorer", "CorruptionFrames", "FeatureMapPlot", "PushPullExplorer", "PushPullFrames",
    "attribute", "attribution_summary", "bar_image", "corruption_explorer", "corruption_frame", "edge_image",
    "feature_snr", "plot_corruption_differences", "plot_learned_alpha", "plot_mnist_study", "plot_noise_ramp",
    "plot_pair_mce", "plot_sensitivity", "write_explorer_html",
    "first_conv", "gabor_kernel", "grating", "kernel_montage", "kernel_spectrum", "layer_responses",
    "plot_accuracy_vs_level", "plot_attributions", "plot_corruption_errors", "plot_corruption_examples",
    "plot_error_vs_severity", "plot_feature_maps", "plot_kernel_spectra", "plot_kernels", "plot_mce_bars",
    "plot_pull_upsampling", "plot_snr_curves", "plot_training_curves", "pushpull_explorer", "pushpull_frame",
    "pushpull_from_kernel", "pushpull_output", "radial_profile", "snr_db", "spectrum_frequencies", "to_heatmap",
    "attribution_overlap", "detectability", "gradcam_layer", "plot_detectability", "preferred_stimulus",
    "response_variants",
]
