"""Small helpers for written reports: Markdown tables and atomically saved figures."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["markdown_table", "save_figure"]


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
