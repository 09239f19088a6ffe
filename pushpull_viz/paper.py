"""The numbers the push-pull paper reports, as data, each with where it is printed.

Source: N. Strisciuglio, M. Lopez-Antequera, N. Petkov, "Enhanced robustness of convolutional
networks with a push-pull inhibition layer", *Neural Computing and Applications* 32:17957-17971
(2020), doi 10.1007/s00521-020-04751-8 (open access, CC BY 4.0).

Page references give the page of the 15-page article PDF (``p. 10``) and, in brackets, the
journal page it corresponds to in volume 32 (``17966`` = 17956 + PDF page; the PDF itself is
the online-first version and prints no page numbers).

Everything here is a number the paper *prints* (in a table or in the running text). Nothing is
read off a figure: Fig. 4 (LeNets, Gaussian noise) and Fig. 5 (LeNets, Poisson noise and
contrast) are plots whose only stated numbers are the ones quoted in the text of section 4.1.2
(:func:`paper_mnist`); Fig. 7 (average CIFAR-C error per model) plots the "Average error" row
of Table 2.

Errors are fractions in the tables returned here (``0.0756``, not ``7.56``), like the tables of
:func:`pushpull_viz.robustness.evaluate` and :func:`~pushpull_viz.robustness.summary_table`;
mCE and relative mCE are in percent (AlexNet = 100), as printed.

Printing slips in the paper, and what the tables here hold instead:

* Table 3 prints E_corr = 29.83 for ResNet-20-PP; Tables 2 and 5 print 29.38, which is also the
  mean of its Table 2 column. :func:`paper_summary` holds 29.38 (``note`` says so).
* Table 3 calls the deepest ResNet "ResNet-52"; Tables 2 and 5 call it ResNet-56 (52 is not a
  CIFAR ResNet depth, 6n + 2). It is ``"ResNet-56"`` here.
* Table 2's "Average error" of ResNet-56-PP reads 26.33; the mean of its column is 26.23, the
  value of Tables 3 and 5. :data:`TABLE2_PRINTED_AVERAGE` keeps the printed row as printed.

With the AlexNet errors of Appendix 2 (:data:`pushpull_viz.robustness.ALEXNET_CIFAR_ERRORS`),
:func:`pushpull_viz.robustness.summarize` of each Table 2 column reproduces the mCE and relative
mCE of Table 3 for all 14 models (after rounding to integers, as printed).

Example:
    >>> from pushpull_viz.robustness import summarize
    >>> s = summarize(paper_table2(["ResNet-20"]), model="ResNet-20")
    >>> round(s.mce), round(s.relative_mce), round(100 * s.clean_error, 2)
    (104, 169, 7.56)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

__all__ = [
    "PAPER_CITATION",
    "PAPER_MODEL_NAMES",
    "TABLE2_MODELS",
    "TABLE2_PERCENT",
    "TABLE2_PRINTED_AVERAGE",
    "TABLE3_PERCENT",
    "TABLE4_PERCENT",
    "TABLE4_VARIANCES",
    "TABLE5_LEARNED_ALPHA_PERCENT",
    "MNIST_ACCURACY_PERCENT",
    "paper_learned_alpha",
    "paper_mnist",
    "paper_model_name",
    "paper_sensitivity",
    "paper_summary",
    "paper_table2",
]

PAPER_CITATION = ("Strisciuglio, Lopez-Antequera, Petkov (2020), Neural Computing and Applications "
                  "32:17957-17971, doi 10.1007/s00521-020-04751-8")

_T2 = "Table 2, p. 10 [17966]"
_T3 = "Table 3, p. 10 [17966]"
_T4 = "Table 4, p. 11 [17967]"
_T5 = "Table 5, p. 11 [17967]"
_MNIST_NOISE = "Sect. 4.1.2 text, p. 6 [17962] (results of Fig. 4)"
_MNIST_CLEAN = "Sect. 4.1.2 text, p. 7 [17963]"

# ------------------------------------------------------------------------------------ Table 2
#: Column order of Table 2 (p. 10 [17966]): each architecture without ("No PP") and with ("PP")
#: the push-pull first layer (h = 2, alpha = 1).
TABLE2_MODELS: tuple[str, ...] = (
    "ResNet-20", "ResNet-20-PP", "ResNet-32", "ResNet-32-PP", "ResNet-44", "ResNet-44-PP",
    "ResNet-56", "ResNet-56-PP", "DenseNet-40-12", "DenseNet-40-12-PP", "DenseNet-100-12",
    "DenseNet-100-12-PP", "DenseNet-100-24", "DenseNet-100-24-PP",
)

#: Paper Table 2 (p. 10 [17966]): CIFAR-10-C top-1 classification error (%) per corruption (the
#: mean over its 5 severities), one value per model in :data:`TABLE2_MODELS` order, as printed.
TABLE2_PERCENT: dict[str, tuple[float, ...]] = {
    # noise
    "gaussian_noise": (57.41, 49.90, 58.38, 47.81, 54.50, 48.43, 56.72, 44.92, 68.67, 52.31, 56.19, 45.20, 57.83,
                       42.83),
    "shot_noise": (45.75, 39.98, 47.31, 37.12, 42.93, 38.11, 44.02, 35.74, 56.25, 42.45, 44.01, 34.38, 44.12, 32.33),
    "impulse_noise": (41.88, 37.20, 45.71, 35.55, 38.80, 35.51, 44.68, 33.14, 50.24, 39.15, 40.71, 37.97, 46.41, 34.24),
    "speckle_noise": (41.34, 37.55, 43.47, 33.96, 39.22, 35.42, 39.72, 33.58, 51.15, 39.74, 39.14, 31.78, 38.68, 29.32),
    # blur
    "defocus_blur": (21.43, 22.30, 22.04, 19.86, 20.86, 20.24, 20.02, 20.88, 22.21, 21.22, 17.15, 17.34, 17.90, 15.01),
    "glass_blur": (58.82, 58.56, 52.78, 50.80, 57.40, 55.23, 59.22, 50.46, 46.04, 52.17, 42.92, 44.65, 42.56, 38.80),
    "motion_blur": (30.62, 29.50, 30.20, 27.92, 28.34, 26.83, 26.54, 27.67, 27.93, 27.86, 20.89, 21.07, 19.79, 18.68),
    "zoom_blur": (27.54, 29.68, 30.33, 26.92, 28.06, 25.89, 26.73, 26.58, 30.62, 27.54, 22.94, 22.19, 24.26, 18.98),
    "gaussian_blur": (31.32, 33.24, 33.94, 30.12, 32.83, 29.93, 30.88, 31.22, 36.07, 30.70, 28.58, 28.23, 33.60, 25.25),
    # weather
    "snow": (25.06, 25.59, 23.19, 22.60, 23.00, 23.66, 21.99, 22.32, 21.73, 25.01, 16.87, 18.34, 14.41, 15.67),
    "frost": (31.39, 31.29, 30.86, 26.37, 28.02, 26.69, 29.08, 27.28, 28.59, 30.25, 23.39, 22.48, 20.16, 18.72),
    "fog": (16.56, 17.58, 16.08, 15.45, 14.98, 14.98, 14.55, 15.93, 17.19, 17.12, 13.11, 12.88, 10.66, 11.38),
    "spatter": (19.03, 17.85, 18.37, 15.58, 16.87, 16.60, 16.12, 15.59, 18.13, 19.67, 14.95, 15.76, 12.12, 13.56),
    "brightness": (9.73, 10.34, 9.20, 8.98, 8.63, 8.54, 8.30, 8.68, 8.60, 9.49, 6.30, 6.85, 5.40, 5.97),
    # digital
    "contrast": (29.59, 30.50, 28.33, 28.08, 26.09, 27.15, 24.89, 26.94, 25.13, 28.34, 19.63, 21.39, 17.13, 18.74),
    "elastic_transform": (20.37, 20.65, 20.58, 18.10, 19.46, 18.79, 18.52, 18.57, 20.37, 20.91, 16.44, 15.92, 15.16,
                          14.77),
    "pixelate": (32.33, 32.70, 32.18, 28.87, 30.23, 28.99, 29.79, 29.06, 31.51, 33.11, 30.73, 28.66, 25.99, 26.27),
    "jpeg_compression": (23.81, 22.16, 23.68, 20.73, 22.71, 20.44, 22.88, 19.82, 26.61, 23.43, 23.28, 19.63, 21.39,
                         17.85),
    "saturate": (11.52, 11.70, 10.90, 11.24, 9.94, 9.80, 9.56, 9.90, 11.63, 11.86, 8.25, 8.43, 7.15, 7.61),
}

#: Table 2's bottom row "Average error E" (%), as printed (ResNet-56-PP: 26.33, though its column
#: averages 26.23, the value of Tables 3 and 5).
TABLE2_PRINTED_AVERAGE: tuple[float, ...] = (30.29, 29.38, 30.40, 26.63, 28.57, 26.91, 28.64, 26.33, 31.51, 29.07,
                                             25.55, 23.85, 24.99, 21.37)

# ------------------------------------------------------------------------------------ Table 3
#: Paper Table 3 (p. 10 [17966]): ``model: (E_clean %, E_corr %, mCE, relative mCE)``. E_clean is the
#: error on the clean CIFAR-10 test set; E_corr the plain mean error over CIFAR-10-C. Two printing
#: slips are corrected (see the module docstring): ResNet-20-PP E_corr 29.38 (printed 29.83) and the
#: name ResNet-56 (printed "ResNet-52").
TABLE3_PERCENT: dict[str, tuple[float, float, float, float]] = {
    "AlexNet": (13.87, 29.08, 100, 100),
    "ResNet-20": (7.56, 30.29, 104, 169),
    "ResNet-20-PP": (8.29, 29.38, 101, 158),
    "ResNet-32": (7.29, 30.40, 104, 171),
    "ResNet-32-PP": (7.15, 26.63, 92, 145),
    "ResNet-44": (6.76, 28.57, 98, 162),
    "ResNet-44-PP": (6.87, 26.91, 92, 149),
    "ResNet-56": (6.64, 28.64, 97, 161),
    "ResNet-56-PP": (7.01, 26.23, 91, 144),
    "DenseNet-40-12": (6.38, 31.51, 108, 187),
    "DenseNet-40-12-PP": (7.13, 29.07, 101, 168),
    "DenseNet-100-12": (4.70, 25.55, 88, 160),
    "DenseNet-100-12-PP": (5.04, 23.85, 82, 144),
    "DenseNet-100-24": (3.88, 24.99, 84, 156),
    "DenseNet-100-24-PP": (4.50, 21.37, 73, 129),
}
_TABLE3_NOTES = {
    "AlexNet": "the mCE baseline (CIFAR AlexNet, Appendix 2, p. 13-14 [17969-17970])",
    "ResNet-20-PP": "Table 3 prints E_corr 29.83; Tables 2 and 5 give 29.38",
    "ResNet-56": "Table 3 prints the name ResNet-52",
    "ResNet-56-PP": "Table 3 prints the name ResNet-52-PP",
}

# ------------------------------------------------------------------------------------ Table 5
#: Paper Table 5 (p. 11 [17967]): learned inhibition strength ("PPa", one alpha per channel):
#: ``model: (E_clean %, E_corr %)``. No mCE is reported for these.
TABLE5_LEARNED_ALPHA_PERCENT: dict[str, tuple[float, float]] = {
    "ResNet-20-PPa": (7.89, 31.09),
    "ResNet-56-PPa": (6.48, 26.82),
}

# ------------------------------------------------------------------------------------ Table 4
#: Paper Table 4 (p. 11 [17967]): ResNet-14 on CIFAR-10 with added Gaussian noise of variance
#: sigma^2 (columns), error (%); rows ``(h, alpha)``, ``(None, None)`` the plain ResNet-14.
TABLE4_VARIANCES: tuple[float, ...] = (0.0, 0.0001, 0.0005, 0.001, 0.005, 0.01)
TABLE4_PERCENT: dict[tuple[float | None, float | None], tuple[float, ...]] = {
    (None, None): (4.09, 5.18, 10.47, 18.76, 59.53, 77.46),
    (1.0, 0.5): (3.99, 4.81, 9.50, 17.10, 57.20, 72.51),
    (1.0, 1.0): (4.17, 4.86, 9.58, 16.62, 55.95, 71.17),
    (1.0, 1.5): (4.19, 4.97, 10.11, 17.85, 60.79, 77.32),
    (1.5, 0.5): (4.24, 4.98, 8.76, 14.26, 45.92, 62.56),
    (1.5, 1.0): (4.16, 5.17, 9.18, 14.64, 47.97, 65.58),
    (1.5, 1.5): (4.33, 4.91, 8.32, 12.82, 42.41, 59.82),
    (2.0, 0.5): (4.38, 4.72, 8.54, 13.18, 41.15, 58.86),
    (2.0, 1.0): (4.55, 5.97, 10.10, 14.94, 44.56, 63.91),
    (2.0, 1.5): (4.38, 4.97, 7.98, 11.98, 41.11, 63.17),
}

# ------------------------------------------------------------------------------------ MNIST
#: Section 4.1.2: LeNet accuracy (%) on the clean MNIST test set (p. 7 [17963]) and with added
#: Gaussian noise of variance sigma^2 = 0.2 (p. 6 [17962], the only level of Fig. 4 the text
#: quotes). ``model: (clean, sigma^2 = 0.2)``; "P" marks the push-pull version (paper Table 1).
MNIST_ACCURACY_PERCENT: dict[str, tuple[float, float]] = {
    "A": (98.93, 86.5), "PA": (99.1, 87.1), "B": (98.85, 73.91), "PB": (98.78, 87.2),
    "C": (99.06, 86.2), "PC": (98.91, 85.14), "D": (98.58, 78.62), "PD": (98.84, 82.0),
}

# ------------------------------------------------------------------------------------ names
#: Our names (checkpoint folders, e.g. ``"resnet-20-pp"``) -> the paper's model labels.
#: :func:`paper_model_name` also accepts the registry spellings (``"resnet20"``, ``"densenet40-12"``).
PAPER_MODEL_NAMES: dict[str, str] = {
    "alexnet-cifar": "AlexNet",
    **{label.lower(): label for label in TABLE2_MODELS},
    **{f"{label.lower()}a": f"{label}a" for label in ("ResNet-20-PP", "ResNet-56-PP")},
    **{f"lenet-{k}": k.upper() for k in "abcd"},
    **{f"lenet-{k}-pp": f"P{k.upper()}" for k in "abcd"},
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_BY_KEY = {_key(ours): label for ours, label in PAPER_MODEL_NAMES.items()}
_BY_KEY.update({_key(label): label for label in PAPER_MODEL_NAMES.values()})
_BY_KEY.update({"alexnet": "AlexNet", "resnet52": "ResNet-56", "resnet52pp": "ResNet-56-PP"})


def paper_model_name(name: str) -> str | None:
    """The paper's label for one of our model names, or ``None`` if the paper has no such model.

    Case, hyphens and underscores are ignored, so the registry name ``"resnet20"``, the
    checkpoint folder ``"resnet-20"`` and the paper's ``"ResNet-20"`` all match.

    Args:
        name: a model name, e.g. ``"resnet-20-pp"`` or ``"densenet40-12"``.

    Returns:
        The label used in this module's tables (``"ResNet-20-PP"``), or ``None``.

    Example:
        >>> paper_model_name("resnet20-pp"), paper_model_name("densenet-40-12"), paper_model_name("vgg")
        ('ResNet-20-PP', 'DenseNet-40-12', None)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    return _BY_KEY.get(_key(name))


def _pick(models: Iterable[str] | None, available: Iterable[str], what: str) -> list[str]:
    available = list(available)
    if models is None:
        return available
    if isinstance(models, str):
        models = [models]
    chosen = []
    for name in models:
        label = name if name in available else paper_model_name(name)
        if label not in available:
            raise ValueError(f"models: the paper's {what} has no model {name!r}; it has {', '.join(available)}")
        chosen.append(label)
    return chosen


def paper_table2(models: Iterable[str] | None = None, clean: bool = True):
    """Paper Table 2 as a tidy table: CIFAR-10-C error per model and corruption.

    Args:
        models: which models (paper labels or our names, see :func:`paper_model_name`);
            default: all 14 of Table 2.
        clean: add each model's clean error (paper Table 3) as a ``corruption == "clean"``
            row, as in :func:`pushpull_viz.robustness.evaluate` tables, so that
            :func:`~pushpull_viz.robustness.summarize` works on the result directly.

    Returns:
        A DataFrame ``model, corruption, error, source``: ``error`` is a fraction, the mean over
        the 5 severities of the corruption (Table 2 gives no per-severity errors); corruptions
        use this package's names (``"elastic_transform"``, ``"jpeg_compression"``).

    Example:
        >>> t = paper_table2(["ResNet-20", "ResNet-20-PP"])
        >>> len(t), t.columns.tolist()
        (40, ['model', 'corruption', 'error', 'source'])
        >>> t.query("model == 'ResNet-20-PP' and corruption == 'gaussian_noise'")["error"].item()
        0.499
    """
    import pandas as pd

    rows = []
    for label in _pick(models, TABLE2_MODELS, "Table 2"):
        column = TABLE2_MODELS.index(label)
        if clean:
            rows.append({"model": label, "corruption": "clean", "error": _fraction(TABLE3_PERCENT[label][0]),
                         "source": _T3})
        rows += [{"model": label, "corruption": name, "error": _fraction(values[column]), "source": _T2}
                 for name, values in TABLE2_PERCENT.items()]
    return pd.DataFrame(rows, columns=["model", "corruption", "error", "source"])


def paper_summary(models: Iterable[str] | None = None, learned_alpha: bool = True):
    """Paper Table 3 (and Table 5's learned-alpha models) in the columns of
    :func:`pushpull_viz.robustness.summary_table`.

    Args:
        models: which models (paper labels or our names); default: all.
        learned_alpha: add Table 5's ResNet-20-PPa and ResNet-56-PPa (no mCE reported: NaN).

    Returns:
        A DataFrame ``model, clean_error, corruption_error, mCE, relative_mCE, n_corruptions,
        baseline, source, note``; errors as fractions, mCE and relative mCE in percent (AlexNet =
        100, rounded to integers as printed), ``n_corruptions`` 19 (all of CIFAR-10-C).

    Example:
        >>> s = paper_summary().set_index("model")
        >>> s.loc["DenseNet-100-24-PP", ["mCE", "relative_mCE"]].tolist()
        [73.0, 129.0]
        >>> bool(s["mCE"].isna().sum() == 2)  # the learned-alpha rows
        True
    """
    import pandas as pd

    rows = [{"model": label, "clean_error": _fraction(clean), "corruption_error": _fraction(corr), "mCE": float(mce),
             "relative_mCE": float(rce), "n_corruptions": 19, "baseline": "alexnet-cifar (paper)", "source": _T3,
             "note": _TABLE3_NOTES.get(label, "")}
            for label, (clean, corr, mce, rce) in TABLE3_PERCENT.items()]
    if learned_alpha:
        rows += [{"model": label, "clean_error": _fraction(clean), "corruption_error": _fraction(corr), "mCE": math.nan,
                  "relative_mCE": math.nan, "n_corruptions": 19, "baseline": "alexnet-cifar (paper)", "source": _T5,
                  "note": "learned alpha per channel; no mCE reported"}
                 for label, (clean, corr) in TABLE5_LEARNED_ALPHA_PERCENT.items()]
    table = pd.DataFrame(rows)
    if models is not None:
        chosen = _pick(models, table["model"], "Table 3 / Table 5")
        table = table.set_index("model").loc[chosen].reset_index()
    return table


def paper_learned_alpha():
    """Paper Table 5 (p. 11 [17967]): fixed (alpha = 1) against learned alpha.

    Returns:
        A DataFrame ``model, alpha, clean_error, corruption_error, source`` (errors as fractions)
        for ResNet-20 and ResNet-56: plain, ``-PP`` (alpha = 1) and ``-PPa`` (learned).

    Example:
        >>> paper_learned_alpha()["alpha"].tolist()
        ['none', 'fixed 1', 'learned', 'none', 'fixed 1', 'learned']
    """
    import pandas as pd

    rows = []
    for depth in (20, 56):
        for suffix, alpha in (("", "none"), ("-PP", "fixed 1"), ("-PPa", "learned")):
            label = f"ResNet-{depth}{suffix}"
            clean, corr = (TABLE5_LEARNED_ALPHA_PERCENT[label] if suffix == "-PPa" else TABLE3_PERCENT[label][:2])
            rows.append({"model": label, "alpha": alpha, "clean_error": _fraction(clean),
                         "corruption_error": _fraction(corr), "source": _T5})
    return pd.DataFrame(rows)


def paper_sensitivity():
    """Paper Table 4 (p. 11 [17967]): a ResNet-14 on CIFAR-10 with added Gaussian noise.

    Returns:
        A tidy DataFrame ``model, scale, alpha, variance, error, source`` (one row per printed
        cell, 60 in all): ``model`` is ``"ResNet-14"`` (plain; ``scale`` and ``alpha`` NaN) or
        ``"ResNet-14-PP"``; ``variance`` is the noise variance sigma^2 on [0, 1] images (0 =
        clean); ``error`` a fraction.

    Example:
        >>> t = paper_sensitivity()
        >>> t.query("scale == 2 and alpha == 1 and variance == 0.01")["error"].item()
        0.6391
    """
    import pandas as pd

    rows = []
    for (scale, alpha), errors in TABLE4_PERCENT.items():
        for variance, error in zip(TABLE4_VARIANCES, errors, strict=True):
            rows.append({"model": "ResNet-14" if scale is None else "ResNet-14-PP",
                         "scale": math.nan if scale is None else scale, "alpha": math.nan if alpha is None else alpha,
                         "variance": variance, "error": _fraction(error), "source": _T4})
    return pd.DataFrame(rows)


def paper_mnist():
    """The MNIST numbers the paper states (section 4.1.2): LeNet A-D and their push-pull versions
    PA-PD, clean and with Gaussian noise of variance sigma^2 = 0.2.

    The rest of Fig. 4 (other noise levels) and all of Fig. 5 (Poisson noise and contrast) are
    only plotted, not printed, and are not read off here.

    Returns:
        A DataFrame ``model, lenet, pushpull, corruption, level, accuracy, error, source``:
        ``corruption`` is ``"clean"`` (level NaN) or ``"mnist_gaussian_noise"`` (level 0.2, this
        package's severity 5); ``lenet`` is our registry name (``"lenet-a"``); accuracy and error
        are fractions.

    Example:
        >>> t = paper_mnist()
        >>> t.query("model == 'PB' and corruption == 'mnist_gaussian_noise'")["accuracy"].item()
        0.872
    """
    import pandas as pd

    rows = []
    for label, (clean, noisy) in MNIST_ACCURACY_PERCENT.items():
        for corruption, level, accuracy, source in (("clean", math.nan, clean, _MNIST_CLEAN),
                                                    ("mnist_gaussian_noise", 0.2, noisy, _MNIST_NOISE)):
            rows.append({"model": label, "lenet": f"lenet-{label[-1].lower()}", "pushpull": label.startswith("P"),
                         "corruption": corruption, "level": level, "accuracy": _fraction(accuracy),
                         "error": round(1 - _fraction(accuracy), 6), "source": source})
    return pd.DataFrame(rows)


def _fraction(percent: float) -> float:
    return round(percent / 100, 6)
