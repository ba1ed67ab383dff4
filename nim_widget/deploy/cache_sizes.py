"""How much disk a NIM's model cache needs, where the published figures say so.

The NIM catalog ConfigMap carries no sizes, so the pre-flight check uses this table. Figures are
NVIDIA's published support-matrix numbers for the model files plus runtime (rounded up to whole
gigabytes), or, for large models without a published figure, NVIDIA's sizing guideline of about
4 GB per billion parameters for the vLLM profiles. A model not in the table is not checked: the
catalog is the whole NGC `nim` organisation and changes daily, so this is a floor for the models
we know, never a list of what may be deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

GB = 10**9


@dataclass(frozen=True)
class CacheSize:
    """At least `gigabytes` GB (10^9 bytes) of cache; `basis` says where the figure comes from."""

    gigabytes: int
    basis: str

    @property
    def bytes(self) -> int:
        return self.gigabytes * GB


_GUIDELINE = "NVIDIA's guideline of about 4 GB per billion parameters"

# Keyed by the image repository under nvcr.io: `<catalog namespace>/<name>`.
KNOWN_CACHE_SIZES: MappingProxyType[str, CacheSize] = MappingProxyType(
    {
        "nim/meta/llama3-8b-instruct": CacheSize(16, "the published size of the FP16 profile"),
        "nim/meta/llama-3.1-8b-instruct": CacheSize(16, "the published size of the FP16 profile (15-16 GB)"),
        "nim/meta/llama3-70b-instruct": CacheSize(280, _GUIDELINE),
        "nim/meta/llama-3.1-70b-instruct": CacheSize(280, _GUIDELINE),
        "nim/meta/llama-3.3-70b-instruct": CacheSize(280, _GUIDELINE),
        "nim/nvidia/llama-3.3-nemotron-super-49b-v1": CacheSize(196, _GUIDELINE),
    }
)


def known_cache_size(*, repository: str) -> CacheSize | None:
    """The cache a model needs, from `nvcr.io/<namespace>/<name>` or `<namespace>/<name>`."""
    key = repository.removeprefix("nvcr.io/")
    return KNOWN_CACHE_SIZES.get(key)
