"""Params keys that differ only by case (``FILTER`` and ``filter``): the portal keeps one of them and the other is
silently ignored, the usual reason a filter "does nothing"."""

from __future__ import annotations

from typing import Any


def case_collisions(params: Any) -> list[tuple[str, str]]:
    """Pairs of top-level keys of ``params`` that differ only by case, each later key paired with the first key of
    its spelling group, in the order the keys appear. Anything but a mapping has none."""
    if not isinstance(params, dict):
        return []
    first_of: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for key in params:
        if not isinstance(key, str):
            continue
        folded = key.lower()
        if folded in first_of:
            pairs.append((first_of[folded], key))
        else:
            first_of[folded] = key
    return pairs
