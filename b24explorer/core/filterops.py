"""The REST v2 filter's key prefixes (`>=ID`, `!STATUS`, `%TITLE`) and the REST v3 operators they stand for."""

from __future__ import annotations

V3_OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "in", "between")

# longest first, so `>=` is not read as `>` (the same prefixes a portal reads)
_V2_PREFIXES = ("!><", "!=%", "!%=", "=%", "%=", "!%", "><", ">=", "<=", "!=", "!@", ">", "<", "@", "%", "=", "!")

# the v2 prefixes with no v3 operator at all, and what they mean
NO_V3_TWIN = {
    "%": "substring match (`%`)", "!%": "negated substring match (`!%`)", "=%": "LIKE pattern (`=%`)",
    "%=": "LIKE pattern (`%=`)", "!=%": "negated LIKE pattern (`!=%`)", "!%=": "negated LIKE pattern (`!%=`)",
    "!@": "not in a list (`!@`)", "!><": "not between (`!><`)",
}


def split_v2_key(key: str) -> tuple[str, str]:
    """`>=ID` → (`>=`, `ID`); a key without a prefix gives `""` (equals, or `in` for a list)."""
    for prefix in _V2_PREFIXES:
        if key.startswith(prefix):
            return prefix, key[len(prefix):]
    return "", key


def v3_operator(prefix: str, many: bool) -> str | None:
    """The v3 operator for a v2 prefix and a value that is a list (`many`) or not; None when v3 has no twin."""
    if prefix in NO_V3_TWIN:
        return None
    if prefix in ("", "=", "@"):
        return "in" if many or prefix == "@" else "="
    if prefix in ("!", "!="):
        return None if many else "!="  # `!` with a list is "not in"
    if prefix == "><":
        return "between" if many else None
    return None if many else prefix  # >, >=, <, <= compare with one value
