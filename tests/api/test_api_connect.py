"""Connecting: kubeconfig resolution, contexts, tokens and the workbench's service account."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kubernetes import client

from nim_widget.cluster.api import Api
from nim_widget.cluster.connect import connect, connect_client
from nim_widget.cluster.errors import ConnectionConfigError, Unauthorized
from nim_widget.sandbox import FakeClock, Sandbox


def _namespaces(api_client: client.ApiClient) -> list[str]:
    return [
        n["metadata"]["name"] for n in Api(api_client=api_client).list(api_version="v1", kind="Namespace")
    ]


def test_a_kubeconfig_file_gives_its_context_server_and_namespace(sandbox: Sandbox, tmp_path: Path) -> None:
    path = sandbox.write_kubeconfig(tmp_path / "config", namespace="demo", context="lab")
    with connect(kubeconfig=path) as conn:
        assert conn.describe() == f"context lab at {sandbox.url}"
        assert conn.namespace == "demo" and conn.source == "kubeconfig"
        assert "demo" in _namespaces(conn.api_client)
        assert repr(conn) == f"Connection(context lab at {sandbox.url}, namespace='demo')"


def test_kubeconfig_from_the_environment_and_a_chosen_context(sandbox: Sandbox, tmp_path: Path) -> None:
    path = sandbox.write_kubeconfig(tmp_path / "config", namespace="demo", context="lab")
    config = yaml.safe_load(path.read_text())
    second = dict(config["contexts"][0])
    second = {"name": "other", "context": {**second["context"], "namespace": "opendatahub"}}
    config["contexts"].append(second)
    path.write_text(yaml.safe_dump(config))
    with connect(context="other", environ={"KUBECONFIG": f"{tmp_path / 'missing'}:{path}"}) as conn:
        assert conn.context == "other" and conn.namespace == "opendatahub"
    with connect(kubeconfig=path, namespace="team") as conn:
        assert conn.namespace == "team"
    with pytest.raises(ConnectionConfigError) as err:
        connect(kubeconfig=path, context="nope")
    assert err.value.bad_input and "nope" in err.value.detail


def test_the_global_default_configuration_is_never_touched(sandbox: Sandbox, tmp_path: Path) -> None:
    before = client.Configuration._default
    path = sandbox.write_kubeconfig(tmp_path / "config")
    with connect(kubeconfig=path) as one, connect(server=sandbox.url) as two:
        assert one.api_client.configuration is not two.api_client.configuration
    assert client.Configuration._default is before


def test_server_and_token(tmp_path: Path) -> None:
    with Sandbox(world=None, clock=FakeClock(), controllers=False, token="s3cret-token") as sb:
        with connect(server=sb.url, token="s3cret-token") as conn:
            assert conn.describe() == f"token at {sb.url}"
            assert _namespaces(conn.api_client) == []
            assert "s3cret" not in repr(conn)
        with connect(server=sb.url, token="wrong") as conn, pytest.raises(Unauthorized):
            _namespaces(conn.api_client)


def test_the_in_cluster_service_account_of_a_workbench(tmp_path: Path) -> None:
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text("sa-token-value")
    (sa / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (sa / "namespace").write_text("team-a\n")
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    # No kubeconfig anywhere: the service account is the fallback.
    with connect(environ={**env, "KUBECONFIG": str(tmp_path / "none")}, service_account_dir=sa) as conn:
        assert conn.describe() == "in-cluster service account at https://10.0.0.1:443"
        assert conn.namespace == "team-a"
        cfg = conn.api_client.configuration
        assert cfg.api_key["BearerToken"] == "bearer sa-token-value"
        assert cfg.ssl_ca_cert == str(sa / "ca.crt")
        assert "sa-token-value" not in repr(conn)
    with pytest.raises(ConnectionConfigError):
        connect(in_cluster=True, environ={}, service_account_dir=sa)


def test_nothing_configured_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConnectionConfigError) as err:
        connect(environ={"KUBECONFIG": str(tmp_path / "none")}, service_account_dir=tmp_path)
    assert "No kubeconfig found" in str(err.value)
    with pytest.raises(ConnectionConfigError):
        connect(kubeconfig=tmp_path / "absent")


def test_an_existing_client_can_be_wrapped(sandbox: Sandbox) -> None:
    with sandbox.api_client() as api_client:
        conn = connect_client(api_client=api_client, namespace="demo")
        assert conn.server == sandbox.url and "demo" in _namespaces(conn.api_client)
