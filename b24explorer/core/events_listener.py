"""A listener for online event handlers (`event.bind` with a handler URL) on portals that can reach this machine.

It parses each POST the portal sends (form-encoded as PHP writes it, `data[FIELDS][ID]=5`, or JSON) into an
:class:`OnlineEvent`, checks its `application_token` against the app's, and keeps only a masked copy of the
payload: the access and refresh tokens of the `auth` block and the application token never leave it in the
clear (they are added to the log bus's secrets, so no later record shows them either).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

from .events import ObjectCall, object_call, object_id_of
from .logbus import Level, LogBus
from .loopback_http import close_server, open_server, send_reply
from .redact import event_secrets, mask_event_payload

MAX_BODY = 1024 * 1024
_READ_TIMEOUT_S = 10.0


class Verdict(StrEnum):
    ACCEPTED = "accepted"  # its application_token is the app's
    UNCHECKED = "unchecked"  # no application token was given to the listener to check against
    REFUSED = "refused"  # a token that is not the app's, or none where one was expected


@dataclass(frozen=True)
class OnlineEvent:
    """One incoming event, fit to show: `payload` is the masked copy."""

    event: str
    object_id: int | None
    ts: int | None
    handler_id: str
    verdict: Verdict
    payload: dict[str, Any] = field(default_factory=dict)
    domain: str = ""
    member_id: str = ""

    @property
    def open_call(self) -> ObjectCall | None:
        return object_call(self.event, self.object_id)

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "object_id": self.object_id, "ts": self.ts, "handler_id": self.handler_id,
                "verdict": str(self.verdict), "domain": self.domain, "member_id": self.member_id,
                "payload": self.payload}


class BadEventBody(ValueError):
    pass


def parse_php_form(body: str) -> dict[str, Any]:
    """`a[b][c]=1&a[b][d]=2` → {"a": {"b": {"c": "1", "d": "2"}}}; `x[]=1` appends."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        name, _, rest = key.partition("[")
        path = [name] + ([p.rstrip("]") for p in ("[" + rest).split("[")[1:]] if rest else [])
        node = root
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return root


def parse_event_body(body: bytes, content_type: str) -> dict[str, Any]:
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type.lower() or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BadEventBody(f"the body is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise BadEventBody("the body must be a JSON object")
        return data
    return parse_php_form(text)


def read_event(payload: dict[str, Any], application_token: str | None) -> OnlineEvent:
    """The typed, masked event; `application_token` is the app's (None: not checked)."""
    block = payload.get("auth")
    auth: dict[str, Any] = block if isinstance(block, dict) else {}
    sent = str(auth.get("application_token") or payload.get("application_token") or "")
    if application_token is None:
        verdict = Verdict.UNCHECKED
    elif sent and hmac.compare_digest(sent.encode(), application_token.encode()):
        verdict = Verdict.ACCEPTED
    else:
        verdict = Verdict.REFUSED
    ts = payload.get("ts")
    return OnlineEvent(event=str(payload.get("event") or "").upper(), object_id=object_id_of(payload.get("data")),
                       ts=int(ts) if isinstance(ts, str | int) and str(ts).isdigit() else None,
                       handler_id=str(payload.get("event_handler_id") or ""), verdict=verdict,
                       payload=mask_event_payload(payload), domain=str(auth.get("domain") or ""),
                       member_id=str(auth.get("member_id") or ""))


OnEvent = Callable[[OnlineEvent], Awaitable[None] | None]


class EventListener:
    """`async with EventListener(on_event, application_token=…, port=8099) as listener: listener.handler_url`.

    Listens on 127.0.0.1 unless another `host` is given (a portal in the same network needs the machine's
    address; a tunnel forwards to loopback). A refused event is answered 403 and reported with its verdict.
    """

    def __init__(self, on_event: OnEvent, *, application_token: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, log: LogBus | None = None) -> None:
        self.on_event = on_event
        self.application_token = application_token
        self.host = host
        self.port = port
        self.log = log
        self.received: list[OnlineEvent] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> EventListener:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def handler_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        if self.log is not None and self.application_token:
            self.log.add_secret(self.application_token)
        self._server, self.port = await open_server(self._serve, self.host, self.port, code="EVENTS_LISTEN",
                                                    what="events")

    async def close(self) -> None:
        server, self._server = self._server, None
        await close_server(server)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, text = await self._handle(reader)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        await send_reply(writer, status, text.encode(), "text/plain; charset=utf-8")

    async def _handle(self, reader: asyncio.StreamReader) -> tuple[str, str]:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT_S)
        lines = head.decode("latin-1").split("\r\n")
        verb = lines[0].split(" ", 1)[0].upper()
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ":" in ln)}
        if verb != "POST":
            return "405 Method Not Allowed", "The event handler takes POST requests."
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            return "413 Payload Too Large", "The body is missing a length or is too large."
        body = await asyncio.wait_for(reader.readexactly(int(length)), _READ_TIMEOUT_S)
        try:
            payload = parse_event_body(body, headers.get("content-type", ""))
        except BadEventBody as exc:
            self._emit(Level.WARNING, "EVENT_BAD_BODY", f"An event arrived with a body that cannot be read: {exc}")
            return "400 Bad Request", "The body cannot be read."
        if self.log is not None:
            for secret in event_secrets(payload):
                self.log.add_secret(secret)
        event = read_event(payload, self.application_token)
        self.received.append(event)
        if event.verdict is Verdict.REFUSED:
            self._emit(Level.WARNING, "EVENT_TOKEN_MISMATCH", f"{event.event or 'An event'} was refused: its "
                       "application_token is not this app's", event)
        else:
            self._emit(Level.INFO, "EVENT_RECEIVED", f"{event.event} arrived ({event.verdict})", event)
        try:
            result = self.on_event(event)
            if result is not None:
                await result
        except Exception as exc:  # the portal still gets its answer; the failure is reported
            self._emit(Level.ERROR, "EVENT_HANDLER_FAILED", f"Showing {event.event} failed: {exc}", event)
        if event.verdict is Verdict.REFUSED:
            return "403 Forbidden", "application_token mismatch"
        return "200 OK", "OK"

    def _emit(self, level: Level, code: str, message: str, event: OnlineEvent | None = None) -> None:
        if self.log is not None:
            self.log.emit(level, code, message, context={"event": event.to_dict()} if event else None)
