"""The two Secrets the NIM runtime needs in the project (B.5), copied from the account's.

The runtime template reads `NGC_API_KEY` from `nvidia-nim-secrets` and pulls with `ngc-secret`. With a
per-project account the first usually exists (it is the account's key secret) but the second never
does: the dashboard's wizard does not create it, so image pulls fail (reference G). We create whichever
the project lacks, exactly like the dashboard's legacy path: no labels, the value copied still
base64-encoded from the account's secret.
"""

from __future__ import annotations

from typing import Any

from nim_widget.facts import SecretValue
from nim_widget.manifests.redaction import RevealedSecret

API_KEY_SECRET = "nvidia-nim-secrets"
PULL_SECRET = "ngc-secret"
API_KEY_DATA_KEY = "NGC_API_KEY"
DOCKER_CONFIG_KEY = ".dockerconfigjson"


def api_key_secret(*, name: str, project: str, api_key: SecretValue) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": project},
        "type": "Opaque",
        "data": {API_KEY_DATA_KEY: RevealedSecret(api_key.reveal())},
    }


def pull_secret(*, name: str, project: str, docker_config_json: SecretValue) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": project},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {DOCKER_CONFIG_KEY: RevealedSecret(docker_config_json.reveal())},
    }
