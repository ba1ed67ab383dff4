"""An `Api` on a sandbox, connected the way users connect: through a kubeconfig file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import Connection, connect
from nim_widget.sandbox import Sandbox


class Sleeps(list[float]):
    """Stands in for time.sleep between read retries: records the delay, never waits."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def connection(sandbox: Sandbox, tmp_path: Path) -> Iterator[Connection]:
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace="demo")
    with connect(kubeconfig=path) as conn:
        yield conn


@pytest.fixture
def api(connection: Connection, sleeps: Sleeps) -> Api:
    return Api(api_client=connection.api_client, sleep=sleeps)
