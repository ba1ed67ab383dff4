"""An `Api` on the demo sandbox, connected through a kubeconfig file as users connect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import connect
from nim_widget.sandbox import Sandbox


@pytest.fixture
def api(sandbox: Sandbox, tmp_path: Path) -> Iterator[Api]:
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace="demo")
    with connect(kubeconfig=path) as conn:
        yield Api(api_client=conn.api_client, sleep=lambda _seconds: None)
