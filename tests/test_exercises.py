"""Course exercises: every check with a correct answer, a near miss (it names what is wrong) and a wrong
type (one clear line); the two editions built from the sources; grading both editions."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
import torchvision

from pushpull_viz import convert_to_pushpull
from pushpull_viz.exercises import (
    EXERCISES,
    _overlaps,
    _solution_from_source,
    exercise,
    exercise_kernel,
    grade,
    list_exercises,
)
from pushpull_viz.layers import pull_kernel_size
from pushpull_viz.paper import paper_table2
from pushpull_viz.robustness import ALEXNET_CIFAR_ERRORS

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _pull_size(s, h):
    size = math.floor(s * h) if h != 1 else s
    return size + 1 if size % 2 == 0 else size


def _push_pull(x, weight, alpha, h):
    s_hat = pull_kernel_size(weight.shape[-1], h)
    pull = -F.interpolate(weight, size=(s_hat, s_hat), mode="bilinear", align_corners=True)
    return F.relu(F.conv2d(x, weight, padding=1)) - alpha * F.relu(F.conv2d(x, pull, padding=s_hat // 2))


def _errors():
    table = paper_table2(["ResNet-20-PP"])
    return table[table.corruption != "clean"].set_index("corruption")["error"], \
        table.set_index("corruption").loc["clean", "error"]


def _mce():
    errors, _ = _errors()
    return 100 * sum(errors[c] / ALEXNET_CIFAR_ERRORS[c] for c in errors.index) / len(errors)


def _relative():
    errors, clean = _errors()
    return 100 * sum((errors[c] - clean) / (ALEXNET_CIFAR_ERRORS[c] - ALEXNET_CIFAR_ERRORS["clean"])
                     for c in errors.index) / len(errors)


def _helps():
    t = paper_table2(["ResNet-20", "ResNet-20-PP"]).pivot_table(index="corruption", columns="model", values="error")
    return set(t.index[(t["ResNet-20"] - t["ResNet-20-PP"]) * 100 > 2]) - {"clean"}


def _gain_table(accuracies):
    rows = [{"seed": s, "pushpull": p, "accuracy": a} for (s, p), a in accuracies.items()]
    return pd.DataFrame(rows)


GAIN = _gain_table({(0, False): 0.80, (0, True): 0.85, (1, False): 0.70, (1, True): 0.78})


def _resnet18_pair():
    original = torchvision.models.resnet18(weights=None)
    return original, convert_to_pushpull(original)


def _reinitialised_pair():
    original, converted = _resnet18_pair()
    with torch.no_grad():
        converted.conv1.push.weight.normal_()
    return original, converted


# exercise id -> (correct answer, near miss and the words its message must contain, wrong type)
CASES = {
    "pull-size": (lambda: _pull_size, lambda: (lambda s, h: math.floor(s * h), "odd"), "seven"),
    "pull-padding": (lambda: (lambda s, h, p: pull_kernel_size(s, h) // 2 - s // 2 + p),
                     lambda: ((lambda s, h, p: pull_kernel_size(s, h) // 2 + p), "larger"), 3),
    "output-value": (lambda: -0.45, lambda: (0.3, "ReLU"), "minus 0.45"),
    "read-pull-size": (lambda: 7, lambda: (8, "even"), 7.0),
    "pull-by-hand": (lambda: -F.interpolate(exercise_kernel(), size=(7, 7), mode="bilinear", align_corners=True),
                     lambda: (F.interpolate(exercise_kernel(), size=(7, 7), mode="bilinear", align_corners=True),
                              "wrong sign"), [[1.0]]),
    "formula": (lambda: _push_pull,
                lambda: ((lambda x, w, a, h: F.relu(F.conv2d(x, w, padding=1))), "ReLU(k * I) alone"), "P(I)"),
    "mce": (_mce, lambda: (100 * _errors()[0].mean(), "E_corr"), "101"),
    "relative-mce": (_relative, lambda: (_mce(), "is the mCE"), [158]),
    "where-helps": (_helps, lambda: (_helps() | {"contrast"}, "too many"), "gaussian_noise"),
    "paired-gain": (lambda: {"table": GAIN, "mean": 6.5, "std": pytest.approx(0)},
                    lambda: ({"table": GAIN, "mean": 6.5, "std": 2.0}, "ddof=1"), [6.5, 2.1]),
    "convert": (_resnet18_pair, lambda: (_reinitialised_pair(), "push weights"), "resnet18"),
    "attribution": (_overlaps, lambda: ({k: v + 0.1 for k, v in _overlaps().items()}, "expected"), [0.2, 0.2]),
    "open-question": (lambda: "word " * 90, lambda: ("too short to argue anything", "at least 80"), 42),
}


def test_every_exercise_is_tested_and_described():
    assert set(CASES) == set(EXERCISES) and len(EXERCISES) >= 12
    table = list_exercises()
    assert set(table["level"]) == {"basic", "intermediate", "advanced"}
    assert (table["minutes"] > 0).all() and table["objective"].str.len().gt(20).all()
    for item in EXERCISES.values():
        assert item.hints and item.hint(1)
        assert item.solution() == _solution_from_source(item.id) and "### STUB" not in item.solution()
    assert "def pull_size(s, h):" in exercise("pull-size").solution()
    assert "not on this machine" in _solution_from_source("pull-size", Path("/nonexistent.py"))


@pytest.mark.parametrize("name", list(CASES))
def test_check_correct_near_miss_and_wrong_type(name, capsys):
    item = exercise(name)
    correct, near, wrong = CASES[name]
    answer = correct()
    if name == "paired-gain":  # the sample sd of the two per-seed gains (5 and 8 points)
        answer = {"table": GAIN, "mean": 6.5, "std": pd.Series([5.0, 8.0]).std()}
    result = item.check(answer)
    assert result.passed, result
    near_answer, words = near()
    result = item.check(near_answer)
    assert result.status == "incorrect" and words in result.message, result
    result = item.check(wrong)
    assert result.status == "incorrect" and "\n" not in result.message, result
    assert item.check(None).status == "not done yet"
    assert f"[{name}]" in capsys.readouterr().out


def test_unknown_exercise_and_bad_hint_level():
    with pytest.raises(ValueError, match="unknown exercise 'pull'"):
        exercise("pull")
    with pytest.raises(ValueError, match="level must be 1..3"):
        exercise("pull-size").hint(9)


def _build():
    spec = importlib.util.spec_from_file_location("notebook_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_student_edition_is_built_from_the_source_without_solutions():
    build = _build()
    source = NOTEBOOKS / "cells" / "06_exercises.py"
    student = build.parse(source, "student")
    committed = __import__("nbformat").read(NOTEBOOKS / "exercises" / "06_exercises.ipynb", as_version=4)
    assert [c.source for c in committed.cells] == [c.source for c in student.cells], (
        "notebooks/exercises/06_exercises.ipynb is out of date: run python notebooks/build.py --execute 06")
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    assert "BEGIN SOLUTION" not in code and "return push_out - alpha * pull_out" not in code
    assert "align_corners=True" not in code and "convert_to_pushpull(original)" not in code
    assert code.count("= None  # YOUR ANSWER HERE") == len(EXERCISES)
    instructor = "\n".join(c.source for c in build.parse(source).cells if c.cell_type == "code")
    assert "### STUB:" not in instructor and instructor.count("### BEGIN SOLUTION") == len(EXERCISES)
    with pytest.raises(ValueError, match="not closed"):
        build.edition("### BEGIN SOLUTION\nx = 1", "student")


def test_grading_both_editions(tmp_path, data_root):
    """The instructor edition passes every check; the student edition runs through with every check
    'not done yet'; the command writes the CSV."""
    student = tmp_path / "student"
    student.mkdir()
    (student / "alice.ipynb").write_bytes((NOTEBOOKS / "exercises" / "06_exercises.ipynb").read_bytes())
    table = grade([student])
    assert (table["status"] == "not done yet").all() and (table["error"] == "").all(), table
    out = tmp_path / "grades.csv"
    done = subprocess.run([sys.executable, "-m", "pushpull_viz.cli", "grade", str(NOTEBOOKS / "06_exercises.ipynb"),
                           "--out", str(out)], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out, keep_default_na=False)
    assert len(table) == len(EXERCISES) and set(table["status"]) == {"correct", "submitted for marking"}, table
