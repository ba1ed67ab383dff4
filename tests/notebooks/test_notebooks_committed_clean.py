"""Notebooks are committed without outputs or widget state: stale outputs drift, widget state bloats
diffs, and an output could carry something a reader should not see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(
    [*(REPO / "notebooks").glob("*.ipynb"), *(REPO / "nim_widget" / "notebooks").glob("*.ipynb")]
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_notebook_has_no_outputs_or_widget_state(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in notebook.get("metadata", {})
    dirty = [
        i
        for i, cell in enumerate(notebook["cells"])
        if cell.get("cell_type") == "code" and cell.get("outputs")
    ]
    assert dirty == [], "run tests/notebooks/sync_notebooks.py"


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"app.ipynb", "quickstart.ipynb"}
