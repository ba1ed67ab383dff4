"""Discovery: what it reads, in how few rounds, and which read failures matter."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from nim_widget.cluster.api import Api
from nim_widget.cluster.discovery import gather
from nim_widget.cluster.errors import Forbidden
from nim_widget.sandbox import FakeClock, Rule, Sandbox

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_demo_project_is_read_in_one_round(api: Api, sandbox: Sandbox) -> None:
    facts = gather(api=api, project="demo", now=NOW)
    assert facts.account is not None and facts.account.state == "ready"
    assert facts.account.namespace == "demo" and facts.template is not None
    assert facts.models and facts.model("llama-3.1-8b-instruct") is not None
    assert {p.namespace for p in facts.hardware_profiles} >= {"opendatahub"}
    assert facts.default_storage_class is not None
    assert facts.existing_secrets == frozenset({"nvidia-nim-secrets"})
    assert facts.api_key is None or str(facts.api_key) == "<redacted>"
    assert str(facts.docker_config_json) == "<redacted>" and facts.gathered_at == NOW
    nim_cache = [p for p in facts.pvcs if p.is_nim_cache]
    assert nim_cache and facts.pvcs[0].is_nim_cache  # NIM caches first
    # Every account-dependent object was guessed right: nothing was read twice or from elsewhere.
    reads = [(e.resource, e.namespace, e.name) for e in sandbox.log.entries if not e.is_write]
    assert len(reads) == len(set(reads))
    assert not [r for r in reads if r[0] in ("templates", "configmaps") and r[1] != "demo"]


def test_without_a_project_account_the_cluster_level_account_is_used(api: Api, sandbox: Sandbox) -> None:
    store = sandbox.store
    store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    store.create(
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "nvidia-nim-access", "namespace": "opendatahub"},
            "data": {"api_key": base64.b64encode(b"nvapi-cluster-key-0000").decode()},
        },
    )
    store.create(
        "accounts.nim.opendatahub.io",
        {
            "apiVersion": "nim.opendatahub.io/v1",
            "kind": "Account",
            "metadata": {"name": "odh-nim-account", "namespace": "opendatahub"},
            "spec": {"apiKeySecret": {"name": "nvidia-nim-access"}},
        },
    )
    clock = sandbox.clock
    assert isinstance(clock, FakeClock)
    clock.advance(600)
    facts = gather(api=api, project="team")
    assert facts.account is not None and facts.account.namespace == "opendatahub"
    assert facts.template is not None and facts.template.namespace == "opendatahub"
    assert facts.existing_secrets == frozenset() and facts.api_key is not None


def test_an_unknown_project_is_reported_not_raised(api: Api) -> None:
    facts = gather(api=api, project="nowhere")
    assert not facts.project_exists and facts.account is None


def test_lists_a_user_may_not_read_are_skipped_but_project_reads_must_work(
    api: Api, sandbox: Sandbox
) -> None:
    sandbox.access.set_rules([Rule.of(verbs=("get", "list"), resources="*", namespaces="demo")])
    facts = gather(api=api, project="demo")
    assert facts.account is not None and facts.template is not None
    assert "storageclasses" in [s.key for s in facts.skipped]
    assert "hardwareprofiles/opendatahub" in [s.key for s in facts.skipped]
    sandbox.access.set_rules(
        [Rule.of(verbs=("get", "list"), resources=("accounts", "templates"), namespaces="*")]
    )
    with pytest.raises(Forbidden):
        gather(api=api, project="demo")
