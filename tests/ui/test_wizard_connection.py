"""How the wizard finds its cluster: a kubeconfig and context, and the demo banner's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from nim_widget.sandbox import Sandbox
from nim_widget.ui import NimWizard
from nim_widget.ui.header import DEMO_TITLE
from nim_widget.ui.worker import inline_runner


def test_built_from_a_kubeconfig_and_context(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NIM_WIDGET_DEMO", raising=False)
    kubeconfig = tmp_path / "kubeconfig"
    sandbox.write_kubeconfig(kubeconfig, namespace="demo", context="lab")
    wizard = NimWizard(kubeconfig=kubeconfig, context="lab", runner=inline_runner)
    assert wizard.project == "demo" and not wizard.demo
    assert wizard.header.banner.layout.display == "none"
    assert f"context lab at {sandbox.url}" in wizard.header.line.value
    assert wizard.picker.visible_rows()
    assert repr(wizard) == f"NimWizard(cluster='context lab at {sandbox.url}', project='demo')"
    assert wizard._repr_mimebundle_()["text/plain"] == repr(wizard)
    wizard.close()
    assert wizard.widget.comm is None


def test_demo_flag_from_the_environment(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NIM_WIDGET_DEMO", "1")
    monkeypatch.setenv("NIM_WIDGET_DEMO_REASON", "Nothing was configured.")
    kubeconfig = tmp_path / "kubeconfig"
    sandbox.write_kubeconfig(kubeconfig, namespace="demo")
    monkeypatch.setenv("NIM_WIDGET_DEMO_KUBECONFIG", str(kubeconfig))
    wizard = NimWizard(runner=inline_runner)
    assert wizard.demo and wizard.header.banner.layout.display is None
    assert DEMO_TITLE in wizard.header.banner.value
    assert "Nothing you deploy here reaches a real cluster." in wizard.header.banner.value
    assert "Nothing was configured." in wizard.header.banner.value
    assert sandbox.url in wizard.header.line.value
    wizard.connection.close()
