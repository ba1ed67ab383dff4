"""Reading deployments back: image names and the cache mount in the shapes the dashboard writes."""

from __future__ import annotations

import pytest

from nim_widget.lifecycle.kinds import cache_mount, is_nim_runtime, parse_image


@pytest.mark.parametrize(
    ("image", "parts", "served"),
    [
        (
            "nvcr.io/nim/meta/llama-3.1-8b-instruct:1.2.2",
            ("nvcr.io/nim/meta/llama-3.1-8b-instruct", "llama-3.1-8b-instruct", "1.2.2", "nim/meta"),
            "meta/llama-3.1-8b-instruct",
        ),
        (
            "nvcr.io/nim/nvidia/llm-nim@sha256:abc",
            ("nvcr.io/nim/nvidia/llm-nim", "llm-nim", "", "nim/nvidia"),
            "nvidia/llm-nim",
        ),
        ("mirror.local:5000/nim/llm:2", ("mirror.local:5000/nim/llm", "llm", "2", "nim"), "llm"),
        ("nimble/tool:1", ("nimble/tool", "tool", "1", "nimble"), "nimble/tool"),
    ],
)
def test_parse_image(image: str, parts: tuple[str, str, str, str], served: str) -> None:
    ref = parse_image(image)
    assert (ref.repository, ref.name, ref.tag, ref.organisation) == parts
    assert ref.served_model == served


def test_nim_runtimes_are_recognised_as_the_dashboard_does() -> None:
    def runtime(image: str, annotations: dict[str, str] | None = None) -> dict[str, object]:
        return {
            "metadata": {"annotations": annotations or {}},
            "spec": {"containers": [{"name": "kserve-container", "image": image}]},
        }

    assert is_nim_runtime(runtime("nvcr.io/nim/meta/llama3-8b-instruct:1.0.0"))
    assert is_nim_runtime(runtime("mirror.local/llama:1", {"runtimes.opendatahub.io/nvidia-nim": "true"}))
    assert not is_nim_runtime(runtime("nvcr.io/nvidia/tritonserver:24.01-py3"))
    assert not is_nim_runtime(runtime("quay.io/modh/vllm:2"))
    assert not is_nim_runtime(None)


def test_legacy_cache_volume_without_a_mount_is_found() -> None:
    runtime = {
        "spec": {
            "containers": [{"name": "kserve-container"}],
            "volumes": [{"name": "x", "persistentVolumeClaim": {"claimName": "nim-pvc-abc"}}],
        }
    }
    mount = cache_mount(runtime)
    assert mount is not None and (mount.pvc, mount.sub_path) == ("nim-pvc-abc", "")
    assert cache_mount({"spec": {"containers": [{"name": "c"}]}}) is None
