"""Parameter keys that differ only in case (`FILTER` and `filter`): the portal reads one and drops the other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def case_collisions(params: Any) -> list[tuple[str, str]]:
    """Pairs of top-level keys of `params` that differ only in case, in the order they appear:
    `{"FILTER": …, "filter": …}` → `[("FILTER", "filter")]`. Not a mapping → no pairs."""
    if not isinstance(params, Mapping):
        return []
    first: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for key in params:
        if not isinstance(key, str):
            continue
        folded = key.casefold()
        if folded in first:
            pairs.append((first[folded], key))
        else:
            first[folded] = key
    return pairs
