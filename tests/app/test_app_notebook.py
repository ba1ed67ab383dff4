"""The app notebook's code, run with the environment `nim-widget app` gives its kernels.

The browser tests cover the page; this checks, without a browser, that the kernel joins the
launcher's demo cluster (rather than starting its own) and that the page says why it is on the demo.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nim_widget import demo
from nim_widget.sandbox import FakeClock, Sandbox
from nim_widget.ui import NimWizard

APP = Path(__file__).resolve().parents[2] / "notebooks" / "app.ipynb"


def run_app_cell() -> Any:
    """Execute the notebook's one code cell and return its last expression, as a kernel would show it."""
    cells = [c for c in nbformat.read(APP, as_version=4).cells if c.cell_type == "code"]
    assert len(cells) == 1, "the app is one cell (Voila shows its output full page)"
    module = ast.parse(cells[0].source)
    last = module.body.pop()
    assert isinstance(last, ast.Expr), "the cell ends with the wizard as its displayed value"
    namespace: dict[str, Any] = {}
    exec(compile(module, str(APP), "exec"), namespace)
    return eval(compile(ast.Expression(last.value), str(APP), "eval"), namespace)


def test_the_app_joins_the_launchers_demo_cluster_and_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with Sandbox(world="demo", clock=FakeClock(), controllers=False) as launched:
        kubeconfig = launched.write_kubeconfig(tmp_path / "kubeconfig", namespace="demo")
        for key, value in demo.demo_environment(
            kubeconfig=kubeconfig, reason=demo.NO_CONFIGURATION_REASON
        ).items():
            monkeypatch.setenv(key, value)
        wizard = run_app_cell()
        try:
            assert isinstance(wizard, NimWizard)
            assert wizard.join(timeout=30)
            assert wizard.demo
            assert wizard.connection.server == launched.url
            assert demo.kernel_sandbox() is None
            assert wizard.header.banner.layout.display is None  # shown
            assert "Demo cluster" in wizard.header.banner.value
            assert "No kubeconfig or in-cluster configuration was found" in wizard.header.banner.value
            assert wizard.facts is not None and wizard.facts.project == "demo"
            bundle = wizard._repr_mimebundle_()
            assert "application/vnd.jupyter.widget-view+json" in bundle
        finally:
            wizard.close()
            wizard.connection.close()
