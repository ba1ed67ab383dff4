"""Strip the example notebooks and refresh the app notebook's packaged copy.

    .venv/bin/python tests/notebooks/sync_notebooks.py

Notebooks are committed without outputs or widget state (their cells assert what matters, so nbval in
lax mode checks them without stored outputs). The app notebook also ships inside the package
(``nim_widget/notebooks/app.ipynb``) so an installed `nim-widget app` finds it; tests/app checks that
the two copies are identical.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    subprocess.run([sys.executable, "-m", "nbstripout", *map(str, notebooks)], check=True)
    shutil.copyfile(REPO / "notebooks" / "app.ipynb", REPO / "nim_widget" / "notebooks" / "app.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main())
