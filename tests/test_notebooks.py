"""The committed notebooks are built from their sources in notebooks/cells (edit those, not the .ipynb)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _builder():
    spec = importlib.util.spec_from_file_location("notebook_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("source", sorted((NOTEBOOKS / "cells").glob("[0-9][0-9]_*.py")), ids=lambda p: p.stem)
def test_committed_notebook_matches_its_source(source):
    """The linter (.ci/run) checks notebook code through the .ipynb files, so they must be the sources."""
    built = _builder().parse(source)
    committed = nbformat.read(NOTEBOOKS / f"{source.stem}.ipynb", as_version=4)
    assert [(c.cell_type, c.source) for c in committed.cells] == [(c.cell_type, c.source) for c in built.cells], (
        f"notebooks/{source.stem}.ipynb is out of date: run python notebooks/build.py --execute {source.stem[:2]}")
