"""Batch commands as people write them — a ``{"label": ["method", {params}]}`` map, a list of rows, or the wire
form ``{"cmd": …, "halt": …}`` — checked before anything is sent. The batch editor and ``b24x batch`` share it."""

from __future__ import annotations

from typing import Any

MAX_COMMANDS = 50


class BatchInputError(ValueError):
    """The commands are not a batch that can be sent; the message says why."""


def split_batch(value: Any) -> tuple[dict[str, Any] | list[Any], bool | None]:
    """The commands of a parsed JSON value, and the halt flag when the wire form gave one."""
    halt: bool | None = None
    if isinstance(value, dict) and "cmd" in value and set(value) <= {"cmd", "halt"}:
        halt = bool(value.get("halt", True))
        value = value["cmd"]
    if not isinstance(value, dict | list):
        raise BatchInputError('Commands must be a JSON object {"label": ["method", {params}]} or a list')
    if not value:
        raise BatchInputError("The batch has no commands")
    if len(value) > MAX_COMMANDS:
        raise BatchInputError(f"{len(value)} commands — a batch takes at most {MAX_COMMANDS}. Nothing was sent.")
    rows = value.items() if isinstance(value, dict) else enumerate(value)
    for label, row in rows:
        _check_row(label, row)
    return value, halt


def _check_row(label: Any, row: Any) -> None:
    where = f"Command {label!r}" if isinstance(label, str) else f"Command #{label + 1}"
    shape = '["method", {params}]'
    if isinstance(row, list):
        if not row or not isinstance(row[0], str) or not row[0].strip() or len(row) > 2:
            raise BatchInputError(f"{where}: expected {shape}")
        if len(row) == 2 and row[1] is not None and not isinstance(row[1], dict | list):
            raise BatchInputError(f"{where}: params must be a JSON object")
    elif isinstance(row, dict):
        if not isinstance(row.get("method"), str) or not row["method"].strip():
            raise BatchInputError(f'{where}: expected {shape} or {{"method": "…", "params": {{…}}}}')
    elif not (isinstance(row, str) and row.strip()):
        raise BatchInputError(f"{where}: expected {shape}")
