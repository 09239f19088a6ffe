"""Write a reveal.js slide deck of each committed notebook into one folder (``make slides``).

    python notebooks/slides.py --out outputs/slides            # all notebooks
    python notebooks/slides.py --out outputs/slides 00         # only notebook 00

The decks come from the committed notebooks and their outputs (nothing is executed), with the
code hidden: one idea per slide, as the slide metadata of ``build.py`` says. Each deck is one
``NN_name.slides.html`` file and ``index.html`` links them.

reveal.js itself: if ``OUT/reveal.js/dist/reveal.js`` and ``OUT/require.js`` exist
(``make slides-offline`` puts them there from the npm registry), the decks load them from beside
them and work without a network; otherwise they load them from the CDNs nbconvert names. Formulas are drawn by MathJax
from its CDN in both cases; offline they show as their TeX source.
"""

from __future__ import annotations

import argparse
import html
import os
import re
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def build_deck(notebook_path: Path, offline: bool = False) -> str:
    """The HTML of one deck (code cells' input hidden); ``offline``: reveal.js and require.js from
    beside the deck."""
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    if offline:
        exporter.reveal_url_prefix = "reveal.js"
        exporter.require_js_url = "require.js"
    exporter.reveal_scroll = True  # long prose scrolls instead of running off the slide
    body, _ = exporter.from_notebook_node(nbformat.read(notebook_path, as_version=4))
    return body


def count_slides(deck: str) -> int:
    """Slides and sub-slides of a deck: the innermost ``<section>`` elements."""
    sections = re.findall(r"<section\b|</section>", deck)
    count, depth, opened_inner = 0, 0, False
    for tag in sections:
        if tag.startswith("<section"):
            depth += 1
            opened_inner = True
        else:
            count += opened_inner
            opened_inner = False
            depth -= 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="notebook number prefixes (default: all)")
    parser.add_argument("--out", default="outputs/slides", help="folder for the decks (default: %(default)s)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    offline = (out / "reveal.js" / "dist" / "reveal.js").is_file() and (out / "require.js").is_file()
    notebooks = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        notebooks = [n for n in notebooks if any(n.name.startswith(p) for p in args.only)]
    links = []
    for notebook in notebooks:
        deck = build_deck(notebook, offline)
        target = out / f"{notebook.stem}.slides.html"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(deck, encoding="utf-8")
        os.replace(temporary, target)
        links.append(f'<li><a href="{html.escape(target.name)}">{html.escape(notebook.stem)}</a> '
                     f"({count_slides(deck)} slides)</li>")
        print(f"wrote {target} ({count_slides(deck)} slides, {target.stat().st_size / 1024:.0f} KiB)")
    index = out / "index.html"
    index.write_text("<!DOCTYPE html><meta charset='utf-8'><title>pushpull-viz slides</title><h1>pushpull-viz "
                     "slides</h1><ul>" + "".join(links) + "</ul><p><a href='../explorer.html'>explorer</a> (after "
                     "<code>make explorer</code>)</p>", encoding="utf-8")
    print(f"reveal.js: {'local copy in ' + str(out / 'reveal.js') if offline else 'from the CDN (needs network)'}")


if __name__ == "__main__":
    main()
