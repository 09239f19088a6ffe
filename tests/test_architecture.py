"""The package's layering: a module imports only modules of lower layers (never the other way round)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pushpull_viz"

#: Layer of each top-level module or sub-package, lowest first (README, "Layout").
LAYERS = {
    "checks": 0, "io": 0, "paper": 0, "report": 0, "distributed": 0,
    "layers": 1, "data": 1,
    "convert": 2,
    "models": 3, "corruptions": 3,
    "train": 4, "robustness": 4, "pretrained": 4,
    "viz": 5, "notebook": 5,
    "demo": 6, "reproduce": 6, "exercises": 6,
    "cli": 7,
}


def _imports(path: Path) -> set[str]:
    """Top-level package modules that ``path`` imports (relative imports and ``pushpull_viz.`` ones)."""
    module = path.with_suffix("").relative_to(PACKAGE).parts
    package = module if path.name == "__init__.py" else module[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[:len(package) - node.level + 1]) + (node.module.split(".") if node.module else [])
            names = base[:1] if base else [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pushpull_viz."):
            names = [node.module.split(".")[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names if a.name.startswith("pushpull_viz.")]
        else:
            continue
        found.update(n for n in names if n in LAYERS)
    return found


def test_every_module_has_a_layer():
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.rglob("*.py")}
    assert tops - {"__init__"} <= set(LAYERS), f"add {sorted(tops - set(LAYERS) - {'__init__'})} to LAYERS"


def test_lower_modules_never_import_higher_ones():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        top = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if top == "__init__":
            continue
        for imported in _imports(path) - {top}:
            if LAYERS[imported] >= LAYERS[top]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {imported} (layer {LAYERS[imported]} >= "
                             f"{LAYERS[top]})")
    assert not wrong, "\n".join(wrong)


def test_checks_is_the_bottom():
    assert _imports(PACKAGE / "checks.py") == set()
