"""Write (and optionally execute) the notebooks from the cell sources in ``notebooks/cells/``.

The cell sources are the one place to edit a notebook; this script turns each into an
``.ipynb`` and, with ``--execute``, runs it top to bottom (quick mode unless
``PUSHPULL_MODE=full``) so the committed notebook carries real outputs.

    python notebooks/build.py                 # write the notebooks without outputs
    python notebooks/build.py --execute       # write and run them (quick mode, this machine)
    python notebooks/build.py 04 --execute    # only notebook 04
    python notebooks/build.py --slides-only   # refresh the slide metadata, keep the outputs

A cell source file is plain Python in "percent" format: ``# %% [markdown]`` starts a markdown
cell (its lines are comments), ``# %%`` a code cell, ``# %% tags=["parameters"]`` a code cell
with tags. Exercise solutions sit between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's
markers), with ``### STUB: answer = None`` lines for the student: ``notebooks/NN_*.ipynb`` is the
instructor edition (solutions in place), ``notebooks/exercises/NN_*.ipynb`` the student edition.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
CELLS = HERE / "cells"


BEGIN, END, STUB = "### BEGIN SOLUTION", "### END SOLUTION", "### STUB:"
STUDENT = HERE / "exercises"


def edition(code: str, which: str) -> str:
    """A code cell's text in the ``"instructor"`` edition (solutions in place between nbgrader's
    ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers, stub lines dropped) or the ``"student"``
    edition (each solution region replaced by its ``### STUB:`` lines)."""
    if which not in ("instructor", "student"):
        raise ValueError(f"edition must be 'instructor' or 'student', got {which!r}")
    out, inside = [], False
    for line in code.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            inside = True
            if which == "instructor":
                out.append(line)
        elif stripped == END:
            inside = False
            if which == "instructor":
                out.append(line)
        elif stripped.startswith(STUB):
            if which == "student":
                out.append(line[:len(line) - len(line.lstrip())] + stripped[len(STUB):].strip())
        elif not inside or which == "instructor":
            out.append(line)
    if inside:
        raise ValueError(f"a solution region is not closed with {END!r}")
    text = "\n".join(out)
    while "\n\n\n\n" in text:
        text = text.replace("\n\n\n\n", "\n\n\n")
    return text.strip("\n")


def parse(path: Path, which: str = "instructor") -> nbformat.NotebookNode:
    """Percent-format source -> notebook (the instructor edition unless ``which="student"``)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    blocks = re.split(r"^# %%(.*)$", path.read_text(), flags=re.M)
    for header, body in zip(blocks[1::2], blocks[2::2], strict=True):
        body = body.strip("\n")
        if header.strip().startswith("[markdown]"):
            text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines())
            notebook.cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            cell = nbformat.v4.new_code_cell(edition(body, which))
            tags = re.search(r"tags=(\[.*\])", header)
            if tags:
                cell.metadata["tags"] = json.loads(tags.group(1))
            notebook.cells.append(cell)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{path.stem[:2]}-{index:02d}"
    return notebook


def _shows_something(cell: nbformat.NotebookNode) -> bool:
    """A figure, a widget, a table or printed text among a code cell's outputs."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout" and output.get("text", "").strip():
            return True
        if output.get("output_type") in ("display_data", "execute_result"):
            return True
    return False


def add_slide_metadata(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Slide types for ``jupyter nbconvert --to slides`` (code is hidden in the decks, see slides.py).

    A ``#`` or ``##`` heading starts a slide, a ``###`` heading a sub-slide; each code cell that shows
    something (a figure, a widget, a table, printed text) gets a sub-slide of its own, and the prose
    right after it another; code cells that show nothing (set-up, parameters) are skipped.
    """
    previous_was_output = False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            first = cell.source.lstrip().split("\n", 1)[0]
            if first.startswith(("# ", "## ")):
                kind = "slide"
            elif first.startswith("### ") or previous_was_output:
                kind = "subslide"
            else:
                kind = "-"
            previous_was_output = False
        elif _shows_something(cell) and "parameters" not in cell.metadata.get("tags", []):
            kind, previous_was_output = "subslide", True
        else:
            kind = "skip"
        cell.metadata["slideshow"] = {"slide_type": kind}
    return notebook


def execute(notebook: nbformat.NotebookNode, timeout: int) -> None:
    from nbclient import NotebookClient

    NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="notebook number prefixes (default: all)")
    parser.add_argument("--execute", action="store_true", help="run each notebook and keep its outputs")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--slides-only", action="store_true",
                        help="only (re)write the slide metadata of the committed notebooks, keeping their outputs")
    args = parser.parse_args()
    sources = sorted(CELLS.glob("[0-9][0-9]_*.py"))
    if args.only:
        sources = [s for s in sources if any(s.name.startswith(p) for p in args.only)]
    for source in sources:
        target = HERE / f"{source.stem}.ipynb"
        if args.slides_only:
            notebook = add_slide_metadata(nbformat.read(target, as_version=4))
            nbformat.write(notebook, target.with_suffix(".ipynb.tmp"))
            os.replace(target.with_suffix(".ipynb.tmp"), target)
            print(f"slide metadata written to {target.relative_to(HERE.parent)}")
            continue
        notebook = parse(source)
        if args.execute:
            start = time.perf_counter()
            execute(notebook, args.timeout)
            print(f"{source.stem}: executed in {time.perf_counter() - start:.0f} s "
                  f"(mode {os.environ.get('PUSHPULL_MODE', 'quick')})", file=sys.stderr)
        add_slide_metadata(notebook)
        if BEGIN in source.read_text():  # exercises: also the student edition, unexecuted
            STUDENT.mkdir(exist_ok=True)
            student = STUDENT / target.name
            nbformat.write(parse(source, "student"), student.with_suffix(".ipynb.tmp"))
            os.replace(student.with_suffix(".ipynb.tmp"), student)
            print(f"wrote {student.relative_to(HERE.parent)} (student edition)")
        temporary = target.with_suffix(".ipynb.tmp")
        nbformat.write(notebook, temporary)
        os.replace(temporary, target)
        print(f"wrote {target.relative_to(HERE.parent)} ({target.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
