"""Course exercises on the paper, each with a check, hints and a solution (notebook 06).

Every exercise is an :class:`Exercise`: ``check(answer)`` says "correct", or what is wrong and by
how much, or "not done yet" while the answer is still ``None``; ``hint(level)`` unblocks without
giving the answer away; ``solution()`` shows the instructor's solution. Checks compare with this
package's own implementation or with the paper's numbers (:mod:`pushpull_viz.paper`), never with a
stored copy of the answer.

    >>> from pushpull_viz.exercises import exercise
    >>> ex = exercise("pull-size")
    >>> ex.check(None).status
    [pull-size] not done yet: replace the None of 'the pull-kernel size rule' by your answer
    'not done yet'
    >>> ex.check(lambda s, h: s).status
    [pull-size] incorrect: pull_size(1, 2.0) = 1, but the layer builds 3
    'incorrect'

Grading: each check also appends one JSON line to the file named by ``$PUSHPULL_GRADE_LOG`` if
set; :func:`grade` runs notebooks with it set and returns one row per (notebook, exercise)
(``pushpull-viz grade FOLDER --out grades.csv``).
"""

from __future__ import annotations

import json
import math
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import PushPull2d, combine_responses, pull_geometry, pull_kernel_size

__all__ = ["EXERCISES", "CheckResult", "Exercise", "exercise", "grade", "list_exercises"]

GRADE_LOG_ENV = "PUSHPULL_GRADE_LOG"
CORRECT, INCORRECT, NOT_DONE, SUBMITTED = "correct", "incorrect", "not done yet", "submitted for marking"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``status`` (correct / incorrect / not done yet / submitted for
    marking) and a message for the student."""

    exercise: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status in (CORRECT, SUBMITTED)

    def __repr__(self) -> str:
        return f"[{self.exercise}] {self.status}: {self.message}"


class Wrong(Exception):
    """Raised inside a checker: the answer is wrong, and the message says how."""


@dataclass(frozen=True)
class Exercise:
    """One exercise. ``checker(answer)`` raises :class:`Wrong` (or ``TypeError`` for the wrong kind of
    answer) with a message, or returns a message on success."""

    id: str
    title: str
    level: str
    minutes: int
    notebook: str
    objective: str
    task: str
    hints: tuple[str, ...]
    checker: Callable[[Any], str] = field(repr=False)
    open_ended: bool = False

    def check(self, answer: Any = None) -> CheckResult:
        """Check ``answer`` (``None``: not done yet). Prints the result and returns it."""
        if answer is None or answer is Ellipsis:
            result = CheckResult(self.id, NOT_DONE, f"replace the None of '{self.title}' by your answer")
        else:
            try:
                message = self.checker(answer)
                result = CheckResult(self.id, SUBMITTED if self.open_ended else CORRECT, message)
            except Wrong as error:
                result = CheckResult(self.id, INCORRECT, str(error))
            except TypeError as error:
                result = CheckResult(self.id, INCORRECT, f"wrong kind of answer: {error}")
        print(repr(result))
        log = os.environ.get(GRADE_LOG_ENV)
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"exercise": result.exercise, "status": result.status,
                                         "message": result.message}) + "\n")
        return result

    def hint(self, level: int = 1) -> str:
        """Hint ``level`` (1 = gentlest); prints it and returns it."""
        if not 1 <= level <= len(self.hints):
            raise ValueError(f"level must be 1..{len(self.hints)} for '{self.id}', got {level!r}")
        text = f"[{self.id}] hint {level}/{len(self.hints)}: {self.hints[level - 1]}"
        print(text)
        return text

    def solution(self) -> str:
        """The instructor's solution, as code (from the notebook source, its one home); prints it and
        returns it."""
        text = _solution_from_source(self.id)
        print(text)
        return text

    def describe(self) -> str:
        return (f"{self.id} ({self.level}, about {self.minutes} min, notebook {self.notebook}): {self.title}. "
                f"Objective: {self.objective}")


#: The exercises' notebook source: its solution regions are the solutions (a repository checkout).
SOURCE = Path(__file__).resolve().parents[1] / "notebooks" / "cells" / "06_exercises.py"


def _solution_from_source(name: str, source: Path | None = None) -> str:
    """The code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in the cell that checks ``name``."""
    source = source or SOURCE
    if not source.is_file():
        return (f"the solutions live in the instructor edition (notebooks/06_exercises.ipynb of the repository); "
                f"{source} is not on this machine")
    text = source.read_text(encoding="utf-8")
    start = text.find(f'exercise("{name}")')
    begin = text.find("### BEGIN SOLUTION", start)
    end = text.find("### END SOLUTION", begin)
    if start < 0 or begin < 0 or end < 0:
        raise LookupError(f"no solution region for {name!r} in {source}")
    lines = [line for line in text[begin:end].splitlines()[1:] if not line.strip().startswith("### STUB:")]
    return textwrap.dedent("\n".join(lines)).strip()


# ----------------------------------------------------------------------------- helpers
def _callable(answer: Any, what: str) -> Callable:
    if not callable(answer):
        raise TypeError(f"expected {what} (a function), got {type(answer).__name__}")
    return answer


def _number(answer: Any, what: str) -> float:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(float(answer)):
        raise TypeError(f"expected {what} (a finite number), got {answer!r}")
    return float(answer)


def _tensor(answer: Any, what: str) -> Tensor:
    if not isinstance(answer, Tensor):
        raise TypeError(f"expected {what} (a torch.Tensor), got {type(answer).__name__}")
    return answer.detach().double()


def _relative(a: Tensor, b: Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-12)).item()


def _paper_resnet20_errors():
    from .paper import paper_table2

    table = paper_table2(["ResNet-20", "ResNet-20-PP"])
    return table


# ----------------------------------------------------------------------------- basic
def _check_pull_size(answer) -> str:
    function = _callable(answer, "pull_size(s, h)")
    cases = [(s, h) for s in (1, 3, 5, 7, 9) for h in (1.0, 1.5, 2.0, 2.5, 3.0)]
    for s, h in cases:
        got, expected = function(s, h), pull_kernel_size(s, h)
        if not isinstance(got, int) or isinstance(got, bool):
            raise Wrong(f"pull_size({s}, {h}) returned {got!r}: return a whole number (int)")
        if got != expected:
            hint = " (the pull kernel is always odd)" if got % 2 == 0 else ""
            raise Wrong(f"pull_size({s}, {h}) = {got}, but the layer builds {expected}{hint}")
    return f"right for all {len(cases)} cases (s = 1..9, h = 1..3)"


def _check_pull_padding(answer) -> str:
    function = _callable(answer, "pull_padding(s, h, padding)")
    for s in (3, 5, 7):
        for h in (1.0, 1.5, 2.0):
            for padding in (0, 1, 2):
                got, expected = function(s, h, padding), pull_geometry(s, h, padding).padding[0]
                if got != expected:
                    raise Wrong(f"pull_padding({s}, {h}, {padding}) = {got!r}, expected {expected}: with it the pull "
                                f"output would be {abs(got - expected) * 2} pixels "
                                f"{'larger' if got > expected else 'smaller'} than the push output")
    return "push and pull outputs have the same size for every case"


def _check_output_value(answer) -> str:
    value = _number(answer, "the layer's output at that pixel")
    push, pull = torch.tensor(0.3), torch.relu(torch.tensor(0.5))  # rectified branches at the pixel
    expected = float(combine_responses(torch.relu(push), pull, 1.5))
    if abs(value - expected) > 1e-6:
        if abs(value - float(torch.relu(push) - torch.relu(torch.tensor(-0.5)) * 1.5)) < 1e-6:
            raise Wrong(f"{value:g}: the pull branch is ReLU(-k_up * I) and -k_up * I = +0.5 here, so its ReLU is 0.5")
        raise Wrong(f"{value:g} is not push - alpha * pull for these numbers")
    return f"{expected:g}: the pull wins and the output is negative (the next ReLU, if any, removes it)"


def _check_read_pull_size(answer) -> str:
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise TypeError(f"expected the pull kernel's side (an int), got {answer!r}")
    expected = pull_kernel_size(5, 1.5)
    if answer != expected:
        raise Wrong(f"{answer}: count the pixels of the pull kernel in the figure again "
                    f"({'even sides cannot be centred' if answer % 2 == 0 else 'off by ' + str(answer - expected)})")
    return f"{expected}x{expected}: floor(5 x 1.5) = 7, odd already"


# ----------------------------------------------------------------------------- intermediate
def _reference_layer(weight: Tensor, scale: float) -> PushPull2d:
    layer = PushPull2d(weight.shape[1], weight.shape[0], weight.shape[-1], padding=weight.shape[-1] // 2, scale=scale)
    with torch.no_grad():
        layer.push.weight.copy_(weight)
    return layer.double()


def exercise_kernel() -> Tensor:
    """The push kernel of the pull-by-hand exercise: a fixed 3x3 edge detector ``(1, 1, 3, 3)``."""
    return torch.tensor([[[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.5, 1.0]]]])


def _check_pull_by_hand(answer) -> str:
    pull = _tensor(answer, "the pull kernel")
    weight = exercise_kernel().double()
    expected = _reference_layer(weight, 2.0).pull_weight.detach()
    if pull.dim() == 2:
        pull = pull[None, None]
    if tuple(pull.shape) != tuple(expected.shape):
        raise Wrong(f"shape {tuple(pull.shape)}; a 3x3 push kernel at h = 2 gives a {expected.shape[-1]}x"
                    f"{expected.shape[-1]} pull kernel, shape {tuple(expected.shape)} "
                    f"(or {tuple(expected.shape[-2:])})")
    error = _relative(pull, expected)
    if error < 1e-5:
        return f"matches layer.pull_weight (relative error {error:.1e})"
    if _relative(-pull, expected) < 1e-5:
        raise Wrong("right magnitudes, wrong sign: the pull kernel is the up-sampled kernel *negated*")
    other = -F.interpolate(weight, size=expected.shape[-2:], mode="bilinear", align_corners=False)
    if _relative(pull, other) < 1e-5:
        raise Wrong("that is align_corners=False; the layer up-samples with align_corners=True (corners stay corners)")
    raise Wrong(f"relative error {error:.3f} against layer.pull_weight")


def _check_formula(answer) -> str:
    function = _callable(answer, "push_pull(x, weight, alpha, h)")
    generator = torch.Generator().manual_seed(7)
    for alpha, scale in ((1.0, 2.0), (0.5, 1.5), (2.0, 2.0)):
        x = torch.rand(2, 3, 16, 16, generator=generator, dtype=torch.float64)
        weight = torch.randn(4, 3, 3, 3, generator=generator, dtype=torch.float64)
        layer = _reference_layer(weight, scale)
        layer.alpha = alpha
        expected = layer(x).detach()
        got = function(x, weight, alpha, scale)
        got = _tensor(got, "the layer's output")
        if got.shape != expected.shape:
            raise Wrong(f"output shape {tuple(got.shape)}, expected {tuple(expected.shape)} (pad the push by 1 and the "
                        "pull so that the sizes match)")
        error = _relative(got, expected)
        if error > 1e-6:
            push = F.relu(F.conv2d(x, weight, padding=1))
            if _relative(got, push) < 1e-6:
                raise Wrong(f"alpha = {alpha}, h = {scale}: this is ReLU(k * I) alone; subtract alpha * the pull "
                            "branch")
            raise Wrong(f"alpha = {alpha}, h = {scale}: relative error {error:.3g} against PushPull2d")
    return "matches PushPull2d for three (alpha, h) settings"


def _paper_summary_of(model: str):
    from .paper import paper_table2
    from .robustness import summarize

    return summarize(paper_table2([model]).drop(columns=["source"]))


def _check_mce(answer) -> str:
    value = _number(answer, "ResNet-20-PP's mCE")
    summary = _paper_summary_of("ResNet-20-PP")
    expected = summary.mce
    if abs(value - expected) > 0.5:
        if abs(value - 100 * summary.corruption_error) < 0.5:
            raise Wrong(f"{value:.1f} is E_corr, the plain mean error; mCE divides each corruption's error by "
                        "AlexNet's first")
        if 0 < value < 2:
            raise Wrong(f"{value:.3f}: give mCE in percent (AlexNet = 100)")
        raise Wrong(f"{value:.1f}, but Table 2's errors give {expected:.1f} (the paper prints 101)")
    return f"{expected:.1f}: the paper prints 101 (its AlexNet errors are rounded)"


def _check_relative_mce(answer) -> str:
    value = _number(answer, "ResNet-20-PP's relative mCE")
    summary = _paper_summary_of("ResNet-20-PP")
    if abs(value - summary.relative_mce) > 0.5:
        if abs(value - summary.mce) < 0.5:
            raise Wrong(f"{value:.1f} is the mCE; relative mCE subtracts the clean errors first")
        raise Wrong(f"{value:.1f}, but Table 2 and the clean error 8.29% give {summary.relative_mce:.1f} "
                    "(the paper prints 158)")
    return f"{summary.relative_mce:.1f}: the paper prints 158"


def _check_where_helps(answer) -> str:
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        raise TypeError(f"expected a set or list of corruption names, got {type(answer).__name__}")
    names = {str(a) for a in answer}
    table = _paper_resnet20_errors()
    wide = table.pivot_table(index="corruption", columns="model", values="error") * 100
    wide = wide.drop(index="clean", errors="ignore")
    expected = set(wide.index[(wide["ResNet-20"] - wide["ResNet-20-PP"]) > 2.0])
    unknown = names - set(wide.index)
    if unknown:
        raise Wrong(f"not CIFAR-10-C corruption names: {sorted(unknown)} (use e.g. 'gaussian_noise')")
    if names != expected:
        missing, extra = sorted(expected - names), sorted(names - expected)
        raise Wrong(f"{len(missing)} missing, {len(extra)} too many"
                    + (f"; e.g. missing {missing[0]}" if missing else "")
                    + (f"; e.g. {extra[0]} gains less than 2 points" if extra else ""))
    return f"{len(expected)} corruptions: " + ", ".join(sorted(expected))


# ----------------------------------------------------------------------------- advanced
def _check_paired_gain(answer) -> str:
    import pandas as pd

    if not isinstance(answer, dict) or not {"table", "mean", "std"} <= set(answer):
        raise TypeError("expected {'table': DataFrame with columns seed, pushpull, accuracy, 'mean': ..., 'std': ...}")
    table = answer["table"]
    if not isinstance(table, pd.DataFrame) or not {"seed", "pushpull", "accuracy"} <= set(table.columns):
        raise TypeError("answer['table'] must be a DataFrame with columns seed, pushpull, accuracy")
    wide = table.pivot_table(index="seed", columns="pushpull", values="accuracy")
    if wide.shape[0] < 2 or wide.isna().any().any() or set(wide.columns) != {False, True}:
        raise Wrong("train both first layers on at least two seeds, each seed with both (a paired design)")
    gains = 100 * (wide[True] - wide[False])
    mean, std = float(gains.mean()), float(gains.std(ddof=1))
    if abs(_number(answer["mean"], "the mean gain") - mean) > 0.05:
        raise Wrong(f"your table's per-seed gains average {mean:.2f} points, not {answer['mean']:.2f} "
                    "(gain = push-pull minus plain accuracy, in points, per seed)")
    if abs(_number(answer["std"], "the spread") - std) > 0.05:
        raise Wrong(f"the sample standard deviation of the per-seed gains is {std:.2f}, not {answer['std']:.2f} "
                    "(use ddof=1)")
    return (f"mean gain {mean:+.2f} ± {std:.2f} points over {len(gains)} seeds; "
            f"push-pull ahead on {int((gains > 0).sum())} of them")


def _check_convert(answer) -> str:
    if not (isinstance(answer, tuple) and len(answer) == 2 and all(isinstance(m, nn.Module) for m in answer)):
        raise TypeError("expected (original_model, converted_model), two nn.Modules")
    original, converted = answer
    conv = getattr(original, "conv1", None)
    layer = getattr(converted, "conv1", None)
    if not isinstance(conv, nn.Conv2d):
        raise Wrong("the original model has no nn.Conv2d conv1 (a torchvision ResNet has one)")
    if not isinstance(layer, PushPull2d):
        raise Wrong(f"converted.conv1 is a {type(layer).__name__}, not a PushPull2d")
    push, plain = layer.push.weight.detach(), conv.weight.detach()
    if push.shape != plain.shape or not torch.equal(push, plain):
        raise Wrong("the push weights are not the original conv1 weights (convert without re-initialising)")
    if (layer.push.stride, layer.push.padding) != (conv.stride, conv.padding):
        raise Wrong("stride or padding changed in the conversion")
    if converted is original:
        raise Wrong("the converted model is the original object: convert a copy (inplace=False) so you can compare")
    return (f"conv1 {tuple(conv.weight.shape)} carried over; pull kernel {layer.pull_kernel_size[0]}x"
            f"{layer.pull_kernel_size[1]} derived from it")


def attribution_inputs() -> tuple[Tensor, Tensor]:
    """The fixed inputs of the attribution exercise: 8 clean MNIST-sized images (a synthetic stroke
    pattern) and the same with Gaussian noise sigma^2 = 0.2 (seed 0), in [0, 1]."""
    from .corruptions import corrupt_at_level

    g = torch.Generator().manual_seed(0)
    clean = torch.zeros(8, 1, 28, 28)
    for i in range(8):
        row = 6 + int(torch.randint(0, 14, (1,), generator=g))
        clean[i, 0, row:row + 3, 5:23] = 1.0
        clean[i, 0, 5:23, 12 + i % 4:15 + i % 4] = 1.0
    noisy = corrupt_at_level(clean, "mnist_gaussian_noise", 0.2, torch.Generator().manual_seed(0))
    return clean, noisy


def _overlaps() -> dict[str, float]:
    from .pretrained import load_pretrained
    from .viz.attribution import attribute, attribution_overlap

    clean, noisy = attribution_inputs()
    result = {}
    for name in ("lenet-a-paper", "lenet-a-pp-paper"):
        model = load_pretrained(name).eval()
        target = model(clean).argmax(1)
        maps = [attribute(model, x, target=target, method="saliency") for x in (clean, noisy)]
        result[name] = float(attribution_overlap(*maps).mean())
    return result


def _check_attribution(answer) -> str:
    if not isinstance(answer, dict) or set(answer) != {"lenet-a-paper", "lenet-a-pp-paper"}:
        raise TypeError("expected {'lenet-a-paper': overlap, 'lenet-a-pp-paper': overlap}")
    expected = _overlaps()
    for name, value in answer.items():
        value = _number(value, f"the overlap of {name}")
        if abs(value - expected[name]) > 0.02:
            raise Wrong(f"{name}: {value:.3f}, expected {expected[name]:.3f} (mean over the 8 images of the "
                        "clean-vs-noisy top-10% overlap of saliency maps, target = the clean prediction)")
    better = max(expected, key=expected.get)
    return (f"overlaps {expected['lenet-a-paper']:.3f} (plain) and {expected['lenet-a-pp-paper']:.3f} (push-pull): "
            f"{better} keeps more of its attention under noise on these 8 images")


def _check_open_question(answer) -> str:
    if not isinstance(answer, str):
        raise TypeError(f"expected your answer as text (a str), got {type(answer).__name__}")
    words = len(answer.split())
    if words < 80:
        raise Wrong(f"{words} words: argue it in at least 80 (claim, evidence from a figure or table, a limit)")
    return f"{words} words, submitted; marked by the rubric in docs/teaching.md"


# ----------------------------------------------------------------------------- the list
def _make() -> dict[str, Exercise]:
    items = [
        Exercise("pull-size", "the pull-kernel size rule", "basic", 10, "01",
                 "state the paper's rule for the pull kernel's side and why it is always odd",
                 "Write pull_size(s, h): the side of the pull kernel for a push kernel of side s at scale h.",
                 ("The paper multiplies the push side by h and rounds down.",
                  "A kernel must have a centre pixel: an even side is made odd.",
                  "h = 1 keeps the push size."),
                 _check_pull_size),
        Exercise("pull-padding", "the pull padding that keeps sizes equal", "basic", 10, "01",
                 "derive the padding that makes the push and pull outputs the same size",
                 "Write pull_padding(s, h, padding): the pull convolution's padding, given the push's.",
                 ("Each side of the pull kernel reaches (s_hat - s) / 2 pixels further than the push kernel.",
                  "Add that to the push padding."),
                 _check_pull_padding),
        Exercise("output-value", "one pixel of the layer by hand", "basic", 5, "01",
                 "apply the formula to numbers, signs included",
                 "At one pixel k * I = 0.3 and k_up * I = -0.5. What does the layer output for alpha = 1.5?",
                 ("The pull branch is ReLU(-k_up * I): negate first, then rectify.",
                  "Output = ReLU(0.3) - 1.5 * ReLU(0.5)."),
                 _check_output_value),
        Exercise("read-pull-size", "read the pull kernel off a figure", "basic", 5, "02",
                 "read a layer's geometry off plot_pull_upsampling",
                 "Draw plot_pull_upsampling for a 5x5 kernel at h = 1.5 and read the pull kernel's side off it.",
                 ("The middle panel's title and axes give its size.",),
                 _check_read_pull_size),
        Exercise("pull-by-hand", "the pull kernel by hand", "intermediate", 20, "02",
                 "build the pull kernel from the push kernel (bilinear, align_corners=True, negated)",
                 "Build the pull kernel of exercise_kernel() (3x3) at h = 2 without PushPull2d and compare it with "
                 "layer.pull_weight.",
                 ("F.interpolate up-samples a (N, C, H, W) tensor to a given size.",
                  "The layer keeps the corners where they are: align_corners=True.",
                  "Do not forget the minus sign."),
                 _check_pull_by_hand),
        Exercise("formula", "the layer from the formula", "intermediate", 25, "01",
                 "implement P(I) = ReLU(k * I) - alpha ReLU(-k_up * I) and match PushPull2d",
                 "Write push_pull(x, weight, alpha, h) for a 3x3 weight with padding 1, using F.conv2d and "
                 "F.interpolate.",
                 ("Two convolutions of the same input: one with k, one with -k_up.",
                  "The pull convolution's padding keeps its output the push's size (see pull-padding).",
                  "Rectify each branch before combining them."),
                 _check_formula),
        Exercise("mce", "mCE from Table 2", "intermediate", 15, "05",
                 "compute the corruption error normalised by AlexNet, as the paper does",
                 "From the paper's Table 2 errors of ResNet-20-PP (paper_table2(['ResNet-20-PP'])) and the AlexNet "
                 "errors (ALEXNET_CIFAR_ERRORS), compute its mCE in percent.",
                 ("CE of one corruption = its error / AlexNet's error on it.",
                  "mCE = 100 x the mean of the 19 CEs."),
                 _check_mce),
        Exercise("relative-mce", "relative mCE from Table 2", "intermediate", 10, "05",
                 "separate robustness from clean accuracy",
                 "The same for relative mCE (clean error 8.29%, AlexNet's 13.87%).",
                 ("Subtract each model's clean error from its corruption errors first.",),
                 _check_relative_mce),
        Exercise("where-helps", "where push-pull helps", "intermediate", 15, "05",
                 "read a per-corruption table for where the layer helps and where it costs",
                 "Which corruptions does ResNet-20-PP improve by more than 2 points of error over ResNet-20 "
                 "(paper Table 2)? Give a set of names.",
                 ("Pivot paper_table2(['ResNet-20', 'ResNet-20-PP']) to one column per model.",
                  "Errors are fractions: multiply by 100 for points."),
                 _check_where_helps),
        Exercise("paired-gain", "the gain of push-pull over paired seeds", "advanced", 30, "04",
                 "measure an effect with its spread: paired seeds, per-seed differences, mean and sd",
                 "Train LeNet-A plain and push-pull on the same seeds (quick recipe) and report the accuracy gain at "
                 "sigma^2 = 0.2 as {'table': ..., 'mean': ..., 'std': ...} (points; per-seed gains).",
                 ("Same seed -> same initial weights and batches: seed_everything(seed) before build_model.",
                  "evaluate(model, images, labels, ['mnist_gaussian_noise'], severities=[5]) tests at sigma^2 = 0.2.",
                  "Gain per seed = PP accuracy - plain accuracy; then mean and std (ddof=1)."),
                 _check_paired_gain),
        Exercise("convert", "a torchvision ResNet-18 with a push-pull first layer", "advanced", 15, "02",
                 "convert a trained model and check what carried over",
                 "Convert a torchvision resnet18() with convert_to_pushpull and hand in (original, converted).",
                 ("convert_to_pushpull(model) replaces the first convolution and keeps its weights.",
                  "It returns a converted copy unless inplace=True."),
                 _check_convert),
        Exercise("attribution", "does noise move where the networks look?", "advanced", 20, "05",
                 "answer an attribution question with a number and its definition",
                 "For attribution_inputs() (clean and noisy), compute for the shipped lenet-a-paper and "
                 "lenet-a-pp-paper the mean clean-vs-noisy overlap (attribution_overlap, top 10%) of saliency maps, "
                 "target = each model's clean prediction.",
                 ("attribute(model, images, target=..., method='saliency') gives the maps.",
                  "Compute the target once, on the clean images, and use it for both."),
                 _check_attribution),
        Exercise("open-question", "a research question", "advanced", 45, "00",
                 "argue from evidence: a claim, the figure or table that supports it, and its limit",
                 "The pull kernel is not renormalised. Would normalising it (dividing by its number of taps, or "
                 "matching its sum to the push kernel's) change the conclusions of Table 4? Argue in 80-300 words.",
                 ("Look at notebook 01's pull response next to the push response on a digit.",
                  "What does alpha multiply? How does that interact with the h rows of Table 4?"),
                 _check_open_question,
                 open_ended=True),
    ]
    return {item.id: item for item in items}


#: All exercises by id, in course order.
EXERCISES: dict[str, Exercise] = _make()


def list_exercises():
    """The exercises as a DataFrame: id, title, level, minutes, notebook, objective."""
    import pandas as pd

    return pd.DataFrame([{"id": e.id, "title": e.title, "level": e.level, "minutes": e.minutes,
                          "notebook": e.notebook, "objective": e.objective} for e in EXERCISES.values()])


def exercise(name: str) -> Exercise:
    """One exercise by id (see :func:`list_exercises`)."""
    if name not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r}; known: {', '.join(EXERCISES)}")
    return EXERCISES[name]


def grade(paths, timeout: int = 900):
    """Run notebooks and collect their checks: one row per (notebook, exercise) with the last status
    of its check, and "not attempted" for exercises it never checked.

    Args:
        paths: a notebook, a folder of notebooks, or a list of either.
        timeout: seconds per cell.

    Returns:
        A DataFrame ``notebook, exercise, status, message, error`` (``error``: the first cell error, if any).
    """
    import tempfile

    import nbformat
    import pandas as pd
    from nbclient import NotebookClient

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    notebooks = []
    for path in map(Path, paths):
        if path.is_dir():
            notebooks += sorted(path.glob("*.ipynb"))
        elif path.suffix == ".ipynb" and path.is_file():
            notebooks.append(path)
        else:
            raise ValueError(f"{path}: expected a .ipynb file or a folder of them")
    rows = []
    for notebook in notebooks:
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "checks.jsonl"
            saved = os.environ.get(GRADE_LOG_ENV)
            os.environ[GRADE_LOG_ENV] = str(log)
            error = ""
            try:
                node = nbformat.read(notebook, as_version=4)
                NotebookClient(node, timeout=timeout, kernel_name="python3", allow_errors=True,
                               resources={"metadata": {"path": str(notebook.parent)}}).execute()
                for cell in node.cells:
                    for output in cell.get("outputs", []):
                        if output.get("output_type") == "error" and not error:
                            error = f"{output.get('ename')}: {output.get('evalue')}"
            finally:
                if saved is None:
                    os.environ.pop(GRADE_LOG_ENV, None)
                else:
                    os.environ[GRADE_LOG_ENV] = saved
            seen = {}
            if log.exists():
                for line in log.read_text(encoding="utf-8").splitlines():
                    record = json.loads(line)
                    seen[record["exercise"]] = record
        for name in EXERCISES:
            record = seen.get(name, {"status": "not attempted", "message": "no check() call ran"})
            rows.append({"notebook": notebook.name, "exercise": name, "status": record["status"],
                         "message": record["message"], "error": error})
    return pd.DataFrame(rows)
