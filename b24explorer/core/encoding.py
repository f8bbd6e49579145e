"""Wire encodings: PHP/qs-style query strings for v2 batch commands, and UUIDv7 request ids."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote

# `$result[label][0][ID]` — a reference the server substitutes with an earlier command's value. Kept literal
# so it reads as written in logs and the server sees exactly that text after decoding.
RESULT_REF = re.compile(r"\$result(?:\[[^\[\]&=]*\])+")


@lru_cache(maxsize=4096)  # a list-all's 50-command batches repeat the same keys and values
def _enc(text: str) -> str:
    # RFC 3986: everything but unreserved characters is percent-encoded (space → %20).
    return quote(text, safe="")


@lru_cache(maxsize=4096)
def _enc_value(text: str) -> str:
    out, pos = [], 0
    for m in RESULT_REF.finditer(text):
        out.append(_enc(text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_enc(text[pos:]))
    return "".join(out)


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def _walk(prefix: str, value: Any, out: list[str]) -> None:
    if type(value) is dict or isinstance(value, Mapping):  # the exact-type test first: it is much cheaper
        for k, v in value.items():
            _walk(f"{prefix}[{k}]", v, out)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _walk(f"{prefix}[{i}]", v, out)
    else:
        out.append(f"{_enc(prefix)}={_enc_value(_scalar(value))}")


def php_query(params: Mapping[str, Any] | list[Any] | tuple[Any, ...] | None) -> str:
    """`filter[>ID]=0&select[0]=ID` style (brackets percent-encoded, as the `qs` library does).

    Nested maps use brackets, lists are indexed, None becomes `key=`, booleans `true`/`false`, empty lists and
    maps are left out (there is no way to say "empty" in this encoding).
    """
    out: list[str] = []
    if not params:
        return ""
    items = params.items() if isinstance(params, Mapping) else enumerate(params)
    for k, v in items:
        _walk(str(k), v, out)
    return "&".join(out)


def encode_value(value: Any) -> str:
    """One value as `php_query` writes it (a `$result[...]` reference kept literal)."""
    return _enc_value(_scalar(value))


def batch_command(method: str, params: Mapping[str, Any] | list[Any] | None) -> str:
    """One v2 batch `cmd` string: `method?query` (`method?` when there are no params)."""
    return f"{method}?{php_query(params)}"


def uuid7() -> str:
    """A UUIDv7 (RFC 9562): 48-bit unix milliseconds, version 7, variant 10, 74 random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = rand >> 68 & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))
