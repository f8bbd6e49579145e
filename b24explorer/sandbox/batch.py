"""REST v2 `batch` as a portal's PHP runs it.

- Labels are PHP array keys: `"0"`, `"1"`, … are integer keys, so every per-command map (`result`,
  `result_error`, `result_time`, …) comes back as a JSON array when its keys run 0..n-1, and `[]` when empty.
- More than 50 commands: the first 50 run; each extra one gets `ERROR_BATCH_LENGTH_EXCEEDED` in
  `result_error`, with HTTP 200.
- `$result[label][path…]`: a path that does not resolve is replaced with the deepest part that does (a whole
  earlier answer, or every answer so far); inside a longer string an array becomes the text `Array`.
- Operating time: the whole batch is billed to the method `batch`; each command's `result_time` carries the
  running total of the request so far, not a figure of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from .encoding import build_php_params
from .registry import V2, ApiError, truthy
from .store import RawJSON

BATCH_LIMIT = 50
BATCH_METHOD = "batch"
_REF = re.compile(r"\$result\[([^\]]*)\]((?:\[[^\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\]]*)\]")

# (method, params) -> result, total, next; raises ApiError. Billed to `batch` by the caller.
Execute = Callable[[str, dict[str, Any]], Any]
TimeBlock = Callable[[float], dict[str, Any]]
Parse = Callable[[Any, dict[str, Any]], tuple[str, dict[str, Any]]]


def php_map(items: dict[str, Any]) -> Any:
    """A PHP array as json_encode writes it: [] when empty, a list when its keys are 0..n-1."""
    if not items:
        return []
    if all(k == str(i) for i, k in enumerate(items)):
        return list(items.values())
    return items


def commands_of(params: dict[str, Any]) -> dict[str, Any]:
    cmd = params.get("cmd")
    if isinstance(cmd, list):
        return {str(i): v for i, v in enumerate(cmd)}
    return {str(k): v for k, v in cmd.items()} if isinstance(cmd, dict) else {}


def run_batch(params: dict[str, Any], execute: Execute, time_block: TimeBlock, clock: Callable[[], float],
              parse: Parse | None = None) -> dict[str, Any]:
    """The `result` part of a batch answer. `execute(method, params)` runs one command (an Answer); `parse`
    decodes one command against the answers so far (`parse_command` unless given)."""
    parse = parse or parse_command
    cmd = commands_of(params)
    halt = truthy(params.get("halt", False))
    results: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    totals: dict[str, Any] = {}
    nexts: dict[str, Any] = {}
    times: dict[str, Any] = {}
    for index, (label, command) in enumerate(cmd.items()):
        if index >= BATCH_LIMIT:
            errors[label] = {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"}
            continue
        t0 = clock()
        try:
            method, inner = parse(command, results)
            if method == BATCH_METHOD:
                raise ApiError(405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage")
            if V2.get(method) is None:
                raise ApiError(404, "ERROR_METHOD_NOT_FOUND", "Method not found")
            answer = execute(method, inner)
        except ApiError as exc:
            errors[label] = {"error": exc.code, "error_description": exc.description}
            if halt:
                break
            continue
        results[label] = answer.result
        if answer.total is not None:
            totals[label] = answer.total
        if answer.next is not None:
            nexts[label] = answer.next
        times[label] = time_block(t0)
    return {
        "result": php_map(results),
        "result_error": php_map(errors),
        "result_total": php_map(totals),
        "result_next": php_map(nexts),
        "result_time": php_map(times),
    }


def parse_command(command: Any, results: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(command, dict):  # some clients send {"method": ..., "params": {...}}
        method = str(command.get("method", "")).lower()
        inner = command.get("params") or {}
        return method, substitute(inner, results) if isinstance(inner, dict) else {}
    text = str(command)
    name, _, qs = text.partition("?")
    name = name.strip().lower()
    if name.endswith(".json"):
        name = name[:-5]
    pairs = [(k, substitute(v, results)) for k, v in parse_qsl(qs, keep_blank_values=True)]
    return name, build_php_params(pairs)


def substitute(value: Any, results: dict[str, Any]) -> Any:
    """`$result[label][path…]` references to earlier answers, replaced as the portal replaces them."""
    if isinstance(value, dict):
        return {k: substitute(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, results) for v in value]
    if not isinstance(value, str) or "$result[" not in value:
        return value
    whole = _REF.fullmatch(value)
    if whole is not None:
        return resolve(whole, results)
    return _REF.sub(lambda m: as_text(resolve(m, results)), value)


def resolve(match: re.Match[str], results: dict[str, Any]) -> Any:
    """The value at `$result[label][path…]`, or the deepest part of that path that exists."""
    node: Any = results
    for segment in [match.group(1), *_SEGMENT.findall(match.group(2))]:
        node = _plain(node)
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            break
    return _plain(node)


def _plain(node: Any) -> Any:
    """Data kept with its JSON text (a row, a page of rows) as plain data."""
    if isinstance(node, RawJSON):
        return node.data
    if isinstance(node, list) and node and isinstance(node[0], RawJSON):
        return [_plain(item) for item in node]
    return node


def as_text(value: Any) -> str:
    """A value as PHP's string conversion writes it inside a longer string."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, (dict, list)):
        return "Array"
    return str(value)
