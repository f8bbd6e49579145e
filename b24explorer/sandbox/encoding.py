"""Request decoding the way a PHP portal sees it: bracket keys, query strings, form and multipart bodies."""

from __future__ import annotations

import json
import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

_KEY_PART = re.compile(r"\[([^\]]*)\]")


class BadRequestBody(ValueError):
    """The body cannot be decoded with the content type it was sent with."""


def split_php_key(key: str) -> list[str]:
    """`fields[PHONE][0][VALUE]` -> ["fields", "PHONE", "0", "VALUE"]; `select[]` -> ["select", ""]."""
    first = key.find("[")
    if first <= 0 or not key.endswith("]"):
        return [key]
    parts = [key[:first]]
    rest = key[first:]
    pos = 0
    for match in _KEY_PART.finditer(rest):
        if match.start() != pos:
            return [key]  # not well-formed brackets: PHP would keep the name as it is
        parts.append(match.group(1))
        pos = match.end()
    if pos != len(rest):
        return [key]
    return parts


MAX_NESTING = 64  # PHP's max_input_nesting_level: deeper variables are dropped


def _listify(node: Any) -> Any:
    """PHP arrays with keys 0..n-1 (in order) become JSON lists, as json_encode would make them."""
    if isinstance(node, dict):
        for k, v in node.items():
            node[k] = _listify(v)
        keys = list(node.keys())
        if keys and all(k == str(i) for i, k in enumerate(keys)):
            return list(node.values())
    return node


def build_php_params(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Fold (key, value) pairs with PHP bracket keys into nested dicts/lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = split_php_key(key)
        if len(parts) > MAX_NESTING:
            continue
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "" and i > 0:
                part = str(_next_index(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return _listify(root)


def _next_index(node: dict[str, Any]) -> int:
    biggest = -1
    for k in node:
        if k.lstrip("-").isdigit():
            biggest = max(biggest, int(k))
    return biggest + 1


def parse_query(query: str) -> dict[str, Any]:
    """A query string or form body; keys may have literal or percent-encoded brackets."""
    if not query:
        return {}
    return build_php_params(parse_qsl(query, keep_blank_values=True))


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise BadRequestBody("multipart body without parts")
    pairs: list[tuple[str, Any]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        charset = part.get_content_charset() or "utf-8"
        pairs.append((str(name), payload.decode(charset, errors="replace")))
    return build_php_params(pairs)


def parse_body(body: bytes, content_type: str) -> Any:
    """Decode a request body by its content type; raises BadRequestBody when it does not parse."""
    if not body.strip():
        return {}
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        try:
            return parse_query(body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise BadRequestBody("form body is not UTF-8") from exc
    if ctype == "multipart/form-data":
        try:
            return parse_multipart(body, content_type)
        except Exception as exc:  # the email parser raises many kinds on garbage
            raise BadRequestBody("multipart body does not parse") from exc
    # JSON is what every SDK sends; a body without a content type is tried as JSON too.
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequestBody("body is not valid JSON") from exc


def parse_json_strict(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequestBody("body is not valid JSON") from exc
