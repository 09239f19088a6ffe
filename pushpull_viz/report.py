"""Small helpers for written reports: Markdown tables, Markdown rendered to a standalone HTML page, and
atomically saved figures."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["markdown_table", "render_html", "save_figure"]


def markdown_table(frame) -> str:
    """A DataFrame as a GitHub Markdown table (index dropped).

    Example:
        >>> import pandas as pd
        >>> print(markdown_table(pd.DataFrame({"a": [1], "b": ["x"]})))
        | a | b |
        |---|---|
        | 1 | x |
    """
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def save_figure(figure, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save a matplotlib figure as PNG atomically (temporary file, then rename) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(temporary, dpi=dpi, bbox_inches="tight")
    os.replace(temporary, path)
    plt.close(figure)
    return path


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
 body { font-family: system-ui, sans-serif; max-width: 56em; margin: 2em auto; padding: 0 1em; line-height: 1.45;
        color: #222; }
 table { border-collapse: collapse; margin: .6em 0; }
 td, th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
 th:first-child, td:first-child { text-align: left; }
 img { max-width: 100%; display: block; margin: .8em 0 .2em; }
 .answer { background: #f3f6fa; border-left: 4px solid #4a7ab7; padding: .3em 1em; }
 code { background: #f2f2f2; padding: 0 .2em; }
</style></head>
<body>
{{ body }}
</body></html>
"""


def render_html(markdown_text: str, title: str) -> str:
    """A standalone HTML page from Markdown (Python-Markdown with tables; a Jinja2 template around it).

    Example:
        >>> page = render_html("# Hi\\n\\nSome `code` and **bold**.", "demo")
        >>> "<code>code</code>" in page and "<strong>bold</strong>" in page and "<title>demo</title>" in page
        True
    """
    import jinja2
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables", "md_in_html", "attr_list"])
    template = jinja2.Environment(autoescape=jinja2.select_autoescape(default=True)).from_string(_PAGE)
    return template.render(title=title, body=jinja2.utils.markupsafe.Markup(body))
