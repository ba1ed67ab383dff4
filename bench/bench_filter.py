"""Filter latency of the wizard's NIM picker, in the kernel, on a 2,000-model synthetic catalog.

Each keystroke sets the search box's value, which runs the search and replaces the list widget's
options exactly as a keystroke from the browser does (the frontend's own rendering is not included;
that is measured by the browser benchmark). Target: at most 30 ms per keystroke.

Run: .venv/bin/python bench/bench_filter.py
"""

from __future__ import annotations

import random
import statistics
import time

import ipywidgets as widgets

from nim_widget.facts import NimModel
from nim_widget.ui.picker import ModelPicker

CATALOG_SIZE = 2000
TARGET_MS = 30.0

_FAMILIES = (
    "llama",
    "mistral",
    "mixtral",
    "nemotron",
    "gemma",
    "phi",
    "qwen",
    "deepseek",
    "starcoder",
    "codellama",
    "falcon",
    "granite",
    "arctic",
    "jamba",
    "yi",
    "dbrx",
    "bge",
    "nv-embedqa",
    "rerank",
)
_ORGS = (
    "nim/meta",
    "nim/mistralai",
    "nim/nvidia",
    "nim/google",
    "nim/microsoft",
    "nim/qwen",
    "nim/deepseek-ai",
    "nim/ibm",
    "nim/nvidia/team-a",
    "nim/snowflake",
)
_SIZES = ("1b", "3b", "7b", "8b", "13b", "34b", "70b", "405b", "8x7b", "8x22b")
_KINDS = ("instruct", "chat", "base", "code", "embed", "vision", "reasoning")
_WORDS = (
    "state-of-the-art",
    "multilingual",
    "large",
    "language",
    "model",
    "optimised",
    "for",
    "dialogue",
    "retrieval",
    "coding",
    "tasks",
    "with",
    "long",
    "context",
    "and",
    "tool",
    "use",
    "efficient",
    "inference",
    "on",
    "NVIDIA",
    "GPUs",
    "enterprise",
    "ready",
    "fine-tuned",
)


def synthetic_catalog(*, size: int, seed: int = 7) -> list[NimModel]:
    rng = random.Random(seed)
    models = []
    for i in range(size):
        family = rng.choice(_FAMILIES)
        version = f"{rng.randint(1, 4)}.{rng.randint(0, 3)}"
        name = f"{family}-{version}-{rng.choice(_SIZES)}-{rng.choice(_KINDS)}-{i:04d}"
        description = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(10, 24)))
        tags = tuple(f"1.{minor}.{patch}" for minor in range(3, 0, -1) for patch in range(2, -1, -1))
        models.append(
            NimModel(
                key=name,
                name=name,
                display_name=name.replace("-", " ").title(),
                short_description=description,
                namespace=rng.choice(_ORGS),
                tags=tags,
                latest_tag=tags[0],
                updated_date="2026-01-01T00:00:00Z",
            )
        )
    return models


def typing_sequence() -> list[str]:
    """A person searching: typing, a typo corrected with backspaces, a second search, clearing."""
    queries: list[str] = []

    def type_text(prefix: str, text: str) -> str:
        for ch in text:
            prefix += ch
            queries.append(prefix)
        return prefix

    def backspace(prefix: str, count: int) -> str:
        for _ in range(count):
            prefix = prefix[:-1]
            queries.append(prefix)
        return prefix

    q = type_text("", "lama")
    q = backspace(q, 4)
    q = type_text(q, "llama 3.1 8b instr")
    q = backspace(q, len(q))
    q = type_text(q, "mistral instruct")
    q = backspace(q, 8)
    q = type_text(q, "multilingual retrieval")
    backspace(q, len(q))
    return queries


def main() -> None:
    picker = ModelPicker()
    models = synthetic_catalog(size=CATALOG_SIZE)
    started = time.perf_counter()
    picker.set_catalog(models=models, account=None)
    load_ms = (time.perf_counter() - started) * 1000
    sequence = typing_sequence()
    for query in sequence[:10]:  # warm-up
        picker.search.value = query
    picker.search.value = ""
    timings: list[float] = []
    for _ in range(3):
        for query in sequence:
            t0 = time.perf_counter()
            picker.search.value = query
            timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    median = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"catalog: {CATALOG_SIZE} models; index + first render {load_ms:.1f} ms")
    print(f"keystrokes: {len(timings)} ({len(sequence)} per pass x 3)")
    print(
        f"filter latency per keystroke: median {median:.2f} ms, p95 {p95:.2f} ms, max {timings[-1]:.2f} ms"
        f" (target <= {TARGET_MS:.0f} ms)"
    )
    print("result:", "OK" if p95 <= TARGET_MS else "OVER TARGET")
    widgets.Widget.close_all()


if __name__ == "__main__":
    main()
