"""Re-run the example notebooks on the demo cluster and store only the outputs nbval checks.

    .venv/bin/python tests/notebooks/refresh_notebooks.py [notebooks/quickstart.ipynb ...]

Notebooks are committed without outputs or widget state, except cells tagged ``keep_output`` (they
are also tagged ``nbval-check-output``): their output is what `make notebooks` compares against.
Run this after a change that legitimately alters one of those outputs, then review the diff. Use it
rather than a bare ``nbstripout``, which also drops the checked cells' execution counts. It
never touches a real cluster: the kernels run with ``NIM_WIDGET_DEMO=1``. It also refreshes the
app notebook's packaged copy (``nim_widget/notebooks/app.ipynb``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
PACKAGED_APP = REPO / "nim_widget" / "notebooks" / "app.ipynb"
TIMEOUT = 120


def demo_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIM_WIDGET_")}
    env["NIM_WIDGET_DEMO"] = "1"
    return env


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(demo_environment())  # the kernel inherits this process's environment
    try:
        NotebookClient(
            notebook,
            timeout=TIMEOUT,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    nbformat.write(notebook, path)
    subprocess.run([sys.executable, "-m", "nbstripout", str(path)], check=True)
    number_checked_cells(path)
    print(f"refreshed {path.relative_to(REPO)}")


def number_checked_cells(path: Path) -> None:
    """nbstripout drops every execution count, but nbval skips (and fails) a reference cell that has
    outputs and no count ("Unrun reference cell has outputs"); the kept cells get 1, 2, 3..."""
    notebook = nbformat.read(path, as_version=4)
    count = 0
    for cell in notebook.cells:
        if cell.cell_type == "code" and "keep_output" in cell.metadata.get("tags", ()):
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = count
    nbformat.write(notebook, path)


def main(argv: list[str]) -> int:
    paths = [Path(p).resolve() for p in argv] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        refresh(path)
        if path == NOTEBOOKS / "app.ipynb":
            shutil.copyfile(path, PACKAGED_APP)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
