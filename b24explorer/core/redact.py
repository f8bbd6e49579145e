"""Credential redaction for log contexts and error request info (JS SDK §6.3), plus webhook masking in text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "***REDACTED***"
SENSITIVE_KEYS = frozenset(
    {
        "auth",
        "password",
        "token",
        "secret",
        "access_token",
        "refresh_token",
        "client_secret",
        "application_token",
        "sessid",
        "key",
        "signature",
        "authorization",  # an HTTP header carrying a bearer token
    }
)
MAX_DEPTH = 6  # object levels walked: a log context's params.fields.X.password is 4 levels down
TRUNCATE_OVER = 300
TRUNCATE_TO = 100

# key=value pairs inside query-like strings (a batch cmd, a URL): the key may carry PHP brackets,
# literal or percent-encoded, e.g. auth=..., data[auth]=..., data%5Bauth%5D=...
# The patterns are compiled on first use (``re`` keeps them): the window's start imports this module but redacts
# nothing before it has painted.
_PAIR = r"(?P<key>(?:^|(?<=[?&;\s]))(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?:\[|%5B)[^=&]*?(?:\]|%5D))*)=(?P<val>[^&\s#]*)"
_LAST_BRACKET = r"(?:\[|%5B)([^\[\]%]*)(?:\]|%5D)$"

# "key": "value" pairs inside JSON text (a truncated body in a log line)
_JSON_PAIR = r'"(?P<name>[A-Za-z_][A-Za-z0-9_]*)"\s*:\s*"(?P<val>(?:[^"\\]|\\.)*)"?'

# A webhook path anywhere in a text: /rest/<id>/<secret> or /rest/api/<id>/<secret>
_WEBHOOK_PATH = r"(/rest/(?:api/)?\d+/)([A-Za-z0-9_\-]{8,})"

# An OAuth bearer token in a header-like text: "Bearer <token>"
_BEARER = r"(?i)(\bBearer\s+)([A-Za-z0-9_\-.~+/]{8,}=*)"


def _is_sensitive(key: object) -> bool:
    return isinstance(key, str) and key.lower() in SENSITIVE_KEYS


def _pair_is_sensitive(full_key: str, name: str) -> bool:
    if _is_sensitive(name):
        return True
    last = re.search(_LAST_BRACKET, full_key, re.IGNORECASE)
    return bool(last and _is_sensitive(last.group(1)))


def mask_secret(secret: str) -> str:
    """`ab…yz` for a long secret; `…` alone when showing any of it would reveal too much."""
    if len(secret) >= 8:
        return f"{secret[:2]}…{secret[-2:]}"
    return "…"


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """Only the webhook paths and the known secrets masked (the rest of the text untouched)."""
    text = re.sub(_WEBHOOK_PATH, lambda m: m.group(1) + mask_secret(m.group(2)), text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask_secret(secret))
    return text


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask key=value credentials, webhook paths, bearer tokens and any known secret inside a string."""
    text = re.sub(_WEBHOOK_PATH, lambda m: m.group(1) + mask_secret(m.group(2)), text)
    if "earer" in text or "EARER" in text:
        text = re.sub(_BEARER, lambda m: m.group(1) + REDACTED, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask_secret(secret))

    def _pair(m: re.Match[str]) -> str:
        if _pair_is_sensitive(m.group("key"), m.group("name")):
            return f"{m.group('key')}={REDACTED}"
        return m.group(0)

    def _json_pair(m: re.Match[str]) -> str:
        if _is_sensitive(m.group("name")):
            return f'"{m.group("name")}": "{REDACTED}"'
        return m.group(0)

    text = re.sub(_PAIR, _pair, text, flags=re.IGNORECASE)
    return re.sub(_JSON_PAIR, _json_pair, text) if '"' in text else text


def redact(value: Any, depth: int = MAX_DEPTH, secrets: Iterable[str] = ()) -> Any:
    """A redacted copy: sensitive keys replaced, query-pair credentials masked, walked `depth` object levels
    deep (lists inside take no level of their own)."""
    secrets = tuple(secrets)
    return _redact(value, depth, secrets)


def _redact(value: Any, depth: int, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        if depth < 0:
            return value if not secrets else _deep_mask_strings(value, secrets)
        return {
            k: (REDACTED if _is_sensitive(k) else _redact(v, depth - 1, secrets)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):  # a list takes no level of its own: params.list[0].token is 3 deep
        if depth < 0:
            return value if not secrets else _deep_mask_strings(value, secrets)
        return [_redact(v, depth, secrets) for v in value]
    return value


def _deep_mask_strings(value: Any, secrets: tuple[str, ...]) -> Any:
    # Past the key-walking depth we still never let a known secret through.
    if isinstance(value, str):
        for s in secrets:
            if s:
                value = value.replace(s, mask_secret(s))
        return value
    if isinstance(value, dict):
        return {k: _deep_mask_strings(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_deep_mask_strings(v, secrets) for v in value]
    return value


def truncate(text: str) -> str:
    """Log payloads over 300 characters keep their first 100 and end with `...` (as the SDK)."""
    return text if len(text) <= TRUNCATE_OVER else text[:TRUNCATE_TO] + "..."


# The secrets an event payload carries: the app's token pair in its `auth` block and the application token.
EVENT_TOKEN_KEYS = ("access_token", "refresh_token", "application_token")


def event_secrets(payload: Any) -> tuple[str, ...]:
    """The token values of an event payload's `auth` block (and a top-level `application_token`)."""
    found: list[str] = []
    blocks = [payload, payload.get("auth")] if isinstance(payload, dict) else []
    for block in blocks:
        if isinstance(block, dict):
            found.extend(str(block[k]) for k in EVENT_TOKEN_KEYS if isinstance(block.get(k), str) and block[k])
    return tuple(found)


def mask_event_payload(payload: Any) -> Any:
    """A copy of an event payload fit to show: the `auth` block keeps its shape (domain, member_id, …) with
    every token masked, and any copy of a token elsewhere in the payload is masked too."""
    masked = _deep_mask_strings(payload, event_secrets(payload))
    if isinstance(masked, dict) and isinstance(payload, dict):
        for holder, original in ((masked, payload), (masked.get("auth"), payload.get("auth"))):
            if isinstance(holder, dict) and isinstance(original, dict):
                for key in EVENT_TOKEN_KEYS:  # a token that is no string (a number, a list) is masked too
                    if original.get(key) and not isinstance(original[key], str):
                        holder[key] = REDACTED
                    elif original.get(key):
                        holder[key] = mask_secret(original[key])
    return masked
