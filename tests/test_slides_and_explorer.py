"""The journal-club material: slide decks from the committed notebooks, and the no-Python HTML explorer,
checked in a real browser (headless Chromium) where one is installed."""

from __future__ import annotations

import html
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import numpy as np
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (Debian: apt-get install chromium)")


def _slides():
    spec = importlib.util.spec_from_file_location("notebook_slides", NOTEBOOKS / "slides.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _screenshot(url: str, path: Path, size: str = "1280,800") -> np.ndarray:
    from PIL import Image

    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--virtual-time-budget=4000", f"--window-size={size}", f"--screenshot={path}", url],
                   capture_output=True, timeout=120, check=False)
    assert path.is_file(), f"Chromium wrote no screenshot of {url}"
    return np.asarray(Image.open(path).convert("L"), dtype=float)


@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_deck_builds_with_one_slide_per_marked_cell_and_none_empty(notebook):
    slides = _slides()
    cells = nbformat.read(notebook, as_version=4).cells
    kinds = [c.metadata.get("slideshow", {}).get("slide_type") for c in cells]
    assert all(kinds), f"{notebook.name}: cells without slide metadata (python notebooks/build.py --slides-only)"
    assert kinds[0] == "slide", "the title cell opens the deck"
    deck = slides.build_deck(notebook)
    assert slides.count_slides(deck) == sum(k in ("slide", "subslide") for k in kinds)
    inner = re.findall(r"<section\b[^>]*>((?:(?!<section\b).)*?)</section>", deck, flags=re.S)
    empty = [i for i, body in enumerate(inner) if not (re.sub(r"<[^>]+>|\s", "", body) or "<img" in body)]
    assert not empty, f"{notebook.name}: slides {empty} show nothing"
    code = [line for c in cells if c.cell_type == "code" for line in c.source.splitlines() if len(line) > 30]
    shown = [line for line in code if line in deck or html.escape(line) in deck]
    assert not shown, f"{notebook.name}: code shown on the slides: {shown[:2]}"


@needs_chromium
def test_deck_title_and_a_figure_slide_render_non_blank(tmp_path):
    slides = _slides()
    deck = tmp_path / "00.slides.html"
    deck.write_text(slides.build_deck(NOTEBOOKS / "00_the_paper.ipynb"), encoding="utf-8")
    title = _screenshot(deck.as_uri() + "#/0", tmp_path / "title.png")
    figure = _screenshot(deck.as_uri() + "#/3/1", tmp_path / "figure.png")
    for image in (title, figure):
        assert image.std() > 10 and (image < 128).mean() > 0.005  # text or a figure on a white page


def test_explorer_page_holds_the_grid_and_stays_small(tmp_path):
    from pushpull_viz.viz.explorer_html import DEFAULT_ALPHAS, DEFAULT_NOISE_VARIANCES, write_explorer_html

    path = write_explorer_html(tmp_path / "explorer.html")
    text = path.read_text()
    assert path.stat().st_size < 5 * 2**20
    assert "http://" not in text and "https://" not in text  # nothing fetched: works offline
    data = json.loads(re.search(r"const DATA = (\{.*?\});\n", text, flags=re.S).group(1))
    assert len(data["alphas"]) >= 9 and len(data["noise"]) >= 6
    assert data["alphas"] == list(DEFAULT_ALPHAS) and data["noise"] == list(DEFAULT_NOISE_VARIANCES)
    assert [u["name"].split(" ")[0] for u in data["units"]] == ["Gabor", "LeNet-A-PP,"]
    for unit in data["units"]:
        assert len(unit["output"]) == len(data["alphas"]) and all(len(r) == len(data["noise"]) for r in unit["output"])
        assert len(set(unit["output"][0])) == len(data["noise"])  # every noise level is its own picture
        assert len({row[-1] for row in unit["output"]}) == len(data["alphas"])  # every alpha too


@needs_chromium
def test_explorer_sliders_change_what_the_browser_shows(tmp_path):
    from pushpull_viz.viz.explorer_html import write_explorer_html

    path = write_explorer_html(tmp_path / "explorer.html")
    start = _screenshot(path.as_uri() + "#alpha=0&noise=0", tmp_path / "a.png", "1000,900")
    moved = _screenshot(path.as_uri() + "#alpha=8&noise=5", tmp_path / "b.png", "1000,900")
    assert start.std() > 10 and moved.std() > 10
    assert np.abs(start - moved).mean() > 1.0  # the maps changed with the sliders


def test_explorer_refuses_bad_arguments(tmp_path):
    from pushpull_viz.viz.explorer_html import write_explorer_html

    with pytest.raises(ValueError, match="alpha"):
        write_explorer_html(tmp_path / "e.html", alphas=[-1.0])
    with pytest.raises(ValueError, match="noise_variances"):
        write_explorer_html(tmp_path / "e.html", noise_variances=[float("nan")])
    assert not (tmp_path / "e.html").exists()
