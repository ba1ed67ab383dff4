"""Type-ahead search over the NIM catalog, fast enough to run on every keystroke in the kernel.

Every keystroke is a round trip to the kernel, so the filter itself must cost far less than the
message (target: 30 ms per keystroke on 2,000 models, comfortably met; see bench/bench_filter.py).
The index lowercases each model's name, display name and description once; a query is split into
words that must all occur; results keep catalog order with name matches ahead of description-only
matches (an exact model name first of all); and a query that extends the previous one only re-checks
the previous hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Searchable(Protocol):
    """What the index needs from a catalog entry (``facts.NimModel`` satisfies it)."""

    @property
    def name(self) -> str: ...

    @property
    def display_name(self) -> str: ...

    @property
    def short_description(self) -> str: ...


@dataclass(frozen=True)
class SearchResult:
    """Indices into the indexed sequence, best first, and the total before any display cap."""

    query: str
    indices: tuple[int, ...]

    @property
    def total(self) -> int:
        return len(self.indices)


class CatalogIndex:
    """Precomputed lowercase haystacks for one catalog snapshot."""

    def __init__(self, models: Sequence[Searchable]) -> None:
        self._names = tuple(f"{m.name}\n{m.display_name}".lower() for m in models)
        self._exact = {m.name.lower(): i for i, m in enumerate(models)}
        self._descriptions = tuple((m.short_description or "").lower() for m in models)
        self._all = tuple(range(len(models)))
        self._last_terms: tuple[str, ...] = ()
        self._last_hits: tuple[int, ...] = self._all

    def __len__(self) -> int:
        return len(self._all)

    @staticmethod
    def terms(query: str) -> tuple[str, ...]:
        return tuple(query.lower().split())

    def search(self, query: str) -> SearchResult:
        terms = self.terms(query)
        if not terms:
            self._last_terms, self._last_hits = (), self._all
            return SearchResult(query=query, indices=self._all)
        candidates = self._all
        if self._extends(terms):
            candidates = self._last_hits
        names, descriptions = self._names, self._descriptions
        strong: list[int] = []
        weak: list[int] = []
        for i in candidates:
            name = names[i]
            description = descriptions[i]
            in_name = True
            matched = True
            for term in terms:
                if term in name:
                    continue
                in_name = False
                if term not in description:
                    matched = False
                    break
            if matched:
                (strong if in_name else weak).append(i)
        # `_last_hits` must stay in catalog order for the next narrowing pass.
        self._last_terms = terms
        self._last_hits = tuple(sorted(strong + weak)) if weak and strong else tuple(strong or weak)
        exact = self._exact.get(query.strip().lower())
        if exact is not None and exact in strong:  # typing a full model name puts that model first
            strong.remove(exact)
            strong.insert(0, exact)
        return SearchResult(query=query, indices=tuple(strong + weak))

    def _extends(self, terms: tuple[str, ...]) -> bool:
        """True when every previous term is contained in the matching new term (typing onward)."""
        last = self._last_terms
        if not last or len(terms) < len(last):
            return False
        return all(new.find(old) >= 0 for old, new in zip(last, terms, strict=False))
