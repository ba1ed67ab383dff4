from __future__ import annotations

import random
from dataclasses import dataclass

from nim_widget.ui.search import CatalogIndex


@dataclass(frozen=True)
class Entry:
    name: str
    display_name: str
    short_description: str


CATALOG = [
    Entry("llama-3.1-8b-instruct", "Llama 3.1 8B Instruct", "Meta's multilingual dialogue model"),
    Entry("mistral-7b-instruct-v0.3", "Mistral 7B Instruct", "Instruction tuned, fast"),
    Entry("nv-embedqa-e5-v5", "NV-EmbedQA E5 v5", "Embedding model for llama-based retrieval"),
    Entry("llama-3.1-70b-instruct", "Llama 3.1 70B Instruct", "Large dialogue model"),
]


def keys(index: CatalogIndex, query: str) -> list[str]:
    return [CATALOG[i].name for i in index.search(query).indices]


def test_empty_query_lists_everything_in_catalog_order() -> None:
    assert keys(CatalogIndex(CATALOG), "  ") == [e.name for e in CATALOG]


def test_every_word_must_match_case_insensitively_across_fields() -> None:
    index = CatalogIndex(CATALOG)
    assert keys(index, "LLAMA 70b") == ["llama-3.1-70b-instruct"]
    assert keys(index, "dialogue multilingual") == ["llama-3.1-8b-instruct"]
    assert keys(index, "nothing-like-this") == []


def test_name_matches_rank_before_description_only_matches() -> None:
    assert keys(CatalogIndex(CATALOG), "llama") == [
        "llama-3.1-8b-instruct",
        "llama-3.1-70b-instruct",
        "nv-embedqa-e5-v5",
    ]


def test_an_exact_model_name_comes_first() -> None:
    catalog = [*CATALOG, Entry("llama", "Llama", "The original")]
    assert [catalog[i].name for i in CatalogIndex(catalog).search("LLAMA ").indices][:2] == [
        "llama",
        "llama-3.1-8b-instruct",
    ]


def test_incremental_narrowing_gives_the_same_results_as_a_fresh_search() -> None:
    rng = random.Random(3)
    alphabet = "lamistrc 3.178b"
    incremental = CatalogIndex(CATALOG)
    query = ""
    for _ in range(400):
        if query and rng.random() < 0.3:
            query = query[:-1]
        else:
            query += rng.choice(alphabet)
        assert incremental.search(query).indices == CatalogIndex(CATALOG).search(query).indices, query
