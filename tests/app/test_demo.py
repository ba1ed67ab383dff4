"""`nim_widget.demo`: which cluster a notebook or the app gets, and the environment contract behind it.

Every connection here is real: the "real cluster" is a sandbox reached through a kubeconfig, the demo
is the in-process sandbox or one announced by a launcher, and the tests list namespaces over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from nim_widget import demo
from nim_widget.cluster.connect import Connection
from nim_widget.cluster.errors import ConnectionConfigError
from nim_widget.sandbox import FakeClock, Sandbox


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No kubeconfig, no service account, no demo variables: a fresh machine."""
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name in (
        demo.ENV_DEMO,
        demo.ENV_DEMO_KUBECONFIG,
        demo.ENV_DEMO_REASON,
        demo.ENV_CONTEXT,
        demo.ENV_NAMESPACE,
    ):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    yield
    demo.stop_kernel_sandbox()


def namespaces(connection: Connection) -> list[str]:
    items = client.CoreV1Api(connection.api_client).list_namespace().items
    return sorted(str(ns.metadata.name) for ns in items if ns.metadata is not None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        (" on ", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", None),
    ],
)
def test_demo_setting_reads_the_flag(raw: str, expected: bool | None) -> None:
    assert demo.demo_setting(environ={demo.ENV_DEMO: raw}) is expected


def test_demo_setting_rejects_anything_else() -> None:
    assert demo.demo_setting(environ={}) is None
    with pytest.raises(ValueError, match="NIM_WIDGET_DEMO='maybe'"):
        demo.demo_setting(environ={demo.ENV_DEMO: "maybe"})


def test_find_configuration_follows_kubectl_then_the_service_account(tmp_path: Path) -> None:
    home = tmp_path / "someone"
    sa_dir = tmp_path / "sa"
    assert demo.find_configuration(environ={}, home=home, service_account_dir=sa_dir) is None

    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "config").write_text("apiVersion: v1\n")
    assert demo.find_configuration(environ={}, home=home, service_account_dir=sa_dir) == (
        f"kubeconfig {home / '.kube' / 'config'}"
    )

    # $KUBECONFIG replaces ~/.kube/config, as in kubectl: only its existing files count.
    listed = tmp_path / "listed"
    env = {"KUBECONFIG": f"{tmp_path / 'missing'}:{listed}"}
    assert demo.find_configuration(environ=env, home=home, service_account_dir=sa_dir) is None
    listed.write_text("apiVersion: v1\n")
    assert (
        demo.find_configuration(environ=env, home=home, service_account_dir=sa_dir) == f"kubeconfig {listed}"
    )

    # A workbench: the service host is set and the token is mounted.
    in_cluster = {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    empty_home = tmp_path / "nobody"
    assert demo.find_configuration(environ=in_cluster, home=empty_home, service_account_dir=sa_dir) is None
    sa_dir.mkdir()
    (sa_dir / "token").write_text("t")
    assert demo.find_configuration(environ=in_cluster, home=empty_home, service_account_dir=sa_dir) == (
        "in-cluster service account"
    )


def test_with_nothing_configured_the_kernel_starts_one_demo_cluster() -> None:
    assert demo.kernel_sandbox() is None
    connection, is_demo = demo.ensure_connection()
    assert is_demo
    sandbox = demo.kernel_sandbox()
    assert sandbox is not None
    assert connection.server == sandbox.url
    assert connection.namespace == "demo"
    assert connection.context == "nim-sandbox"
    assert "demo" in namespaces(connection)

    again, again_demo = demo.ensure_connection()
    assert again_demo and demo.kernel_sandbox() is sandbox  # shared, not a second server
    connection.close()
    again.close()


def test_a_real_configuration_wins_unless_the_demo_is_forced(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, tmp_path: Path
) -> None:
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "real.kubeconfig", namespace="team-a")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))

    connection, is_demo = demo.ensure_connection()
    assert not is_demo
    assert (connection.server, connection.namespace) == (sandbox.url, "team-a")
    assert demo.kernel_sandbox() is None

    monkeypatch.setenv(demo.ENV_DEMO, "1")  # what CI sets so a developer's cluster is never touched
    forced, forced_demo = demo.ensure_connection()
    assert forced_demo
    assert forced.server != sandbox.url
    assert forced.server == demo.kernel_sandbox().url  # type: ignore[union-attr]

    explicit, explicit_demo = demo.ensure_connection(demo=False)
    assert not explicit_demo and explicit.server == sandbox.url
    for conn in (connection, forced, explicit):
        conn.close()


def test_the_kernel_joins_the_demo_cluster_its_launcher_announced(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with Sandbox(world="demo", clock=FakeClock(), controllers=False) as launched:
        kubeconfig = launched.write_kubeconfig(tmp_path / "demo.kubeconfig", namespace="demo")
        env = demo.demo_environment(kubeconfig=kubeconfig, reason=demo.NO_CONFIGURATION_REASON)
        assert env == {
            "KUBECONFIG": str(kubeconfig),
            demo.ENV_DEMO: "1",
            demo.ENV_DEMO_KUBECONFIG: str(kubeconfig),
            demo.ENV_DEMO_REASON: demo.NO_CONFIGURATION_REASON,
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv(demo.ENV_NAMESPACE, "opendatahub")

        connection, is_demo = demo.ensure_connection()
        assert is_demo
        assert connection.server == launched.url
        assert connection.namespace == "opendatahub"
        assert demo.kernel_sandbox() is None
        assert demo.demo_reason() == demo.NO_CONFIGURATION_REASON
        assert "opendatahub" in namespaces(connection)
        connection.close()

    # The launcher is gone (its kubeconfig too): the kernel falls back to a sandbox of its own.
    kubeconfig.unlink()
    fallback, fallback_demo = demo.ensure_connection()
    assert fallback_demo and fallback.server == demo.kernel_sandbox().url  # type: ignore[union-attr]
    fallback.close()


def test_the_context_comes_from_the_launcher(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, tmp_path: Path
) -> None:
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "two-contexts", namespace="demo", context="first")
    second = sandbox.write_kubeconfig(tmp_path / "second", namespace="opendatahub", context="second")
    merged = yaml.safe_load(kubeconfig.read_text())
    extra = yaml.safe_load(second.read_text())
    merged["clusters"] += extra["clusters"]
    merged["contexts"] += extra["contexts"]
    kubeconfig.write_text(yaml.safe_dump(merged))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv(demo.ENV_CONTEXT, "second")

    connection, is_demo = demo.ensure_connection()
    assert not is_demo
    assert (connection.context, connection.namespace) == ("second", "opendatahub")
    connection.close()


def test_demo_off_and_nothing_configured_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(demo.ENV_DEMO, "0")
    with pytest.raises(ConnectionConfigError, match="No kubeconfig found"):
        demo.ensure_connection()
    assert demo.kernel_sandbox() is None
