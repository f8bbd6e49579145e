"""A hypothesis strategy for any JSON value (test-only), shared by the parser tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_values(*, max_size: int = 5, max_leaves: int = 30) -> st.SearchStrategy[Any]:
    """Nested objects and arrays of null, booleans, integers beyond 64 bits, finite floats and short strings."""
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=12),
        lambda children: st.lists(children, max_size=max_size)
        | st.dictionaries(st.text(max_size=6), children, max_size=max_size),
        max_leaves=max_leaves,
    )
