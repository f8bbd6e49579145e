"""The HTTP side: a threading HTTP/1.1 keep-alive server on loopback, and the in-process `Sandbox`."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .costs import Costs
from .counters import Counters
from .faults import Faults
from .portal import Portal, Reply, dumps
from .store import Store, seed_store

_REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large",
            422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def check_loopback(host: str) -> str:
    """The host to bind, if it is a loopback address; anything else is refused."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(f"refusing to serve on {host!r}: the sandbox binds to loopback addresses only "
                         "(127.0.0.1, ::1, localhost)") from None
    if not address.is_loopback:
        raise ValueError(f"refusing to serve on {host!r}: the sandbox binds to loopback addresses only "
                         "(127.0.0.1, ::1, localhost)")
    return str(address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "b24sandbox"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are closed after five minutes
    server: _Server

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 4xx (too large / unreadable)."""
        limit = self.server.portal.max_body_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    length = int(line.split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    self._send_simple(400, "INVALID_REQUEST", "Malformed chunked body", close=True)
                    return None
                if length == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += length
                if size > limit:
                    self._send_simple(413, "REQUEST_ENTITY_TOO_LARGE", "Request body is too large", close=True)
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline(1024)
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError
        except ValueError:
            self._send_simple(400, "INVALID_REQUEST", "Bad Content-Length", close=True)
            return None
        if length > limit:
            self._send_simple(413, "REQUEST_ENTITY_TOO_LARGE",
                              f"Request body is too large (limit {limit} bytes)", close=True)
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = self.server.portal.handle(self.command, self.path, headers, body)
        except Exception as exc:  # never a traceback on the wire, never a dead server
            reply = Reply(500, dumps({"error": "INTERNAL_SERVER_ERROR",
                                      "error_description": f"Internal server error ({type(exc).__name__})"}))
        if reply.action in ("reset_before", "reset_after"):
            self._reset()
            return
        if reply.delay:
            time.sleep(reply.delay)
        self._send(reply)

    def _send(self, reply: Reply, close: bool = False) -> None:
        lines = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}",
                 f"Server: {self.server_version}",
                 f"Content-Type: {reply.content_type}",
                 f"Content-Length: {len(reply.body)}"]
        lines += [f"{k}: {v}" for k, v in reply.headers if k.lower() != "content-type"]
        if close or self.close_connection:
            lines.append("Connection: close")
            self.close_connection = True
        else:
            lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = head if self.command == "HEAD" else head + reply.body
        try:
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    def _send_simple(self, status: int, code: str, description: str, close: bool = False) -> None:
        self._send(Reply(status, dumps({"error": code, "error_description": description})), close=close)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], portal: Portal, family: int) -> None:
        self.address_family = family
        self.portal = portal
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._conn_lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
            self._connections.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that hangs up mid-request is not the server's problem; stay quiet


class Sandbox:
    """A local Bitrix24 portal on loopback. See docs/CONTRACTS.md for the API."""

    def __init__(self, seed: int = 1, deals: int = 10_000, plan: str = "standard", *,
                 host: str = "127.0.0.1", port: int = 0, leads: int = 120, contacts: int = 200,
                 companies: int = 120, tasks: int = 150, events: int = 500, secret: str | None = None,
                 page_size: int = 50, operating_limit: float | str | None = "plan",
                 clock: Callable[[], float] | None = None, max_body_bytes: int = 16 * 1024 * 1024,
                 costs: Costs | None = None, rest_v3: bool = True, operating_time: bool = True) -> None:
        """`page_size` other than 50 breaks protocol fidelity on purpose: big-answer benchmarks only.

        `costs`: simulated network and query time (see `Costs`); none by default. Changeable while serving.

        `operating_limit`: seconds of operating time per method per 10 minutes before 429
        OPERATION_TIME_LIMIT ("plan": 480 on standard/enterprise, none on unlimited; None: off).
        `clock`: a callable returning unix time, for tests that move time without sleeping.
        `rest_v3=False`: a portal without REST v3 (every `/rest/api/` call answers method not found).
        `operating_time=False`: answers' `time` blocks carry no `operating` / `operating_reset_at`.
        """
        self.host = check_loopback(host)
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._port = port
        self.seed = seed
        self._seed_args = {"deals": deals, "leads": leads, "contacts": contacts, "companies": companies,
                           "tasks": tasks, "events": events}
        self._clock = clock or time.time
        store = seed_store(seed, now=self._clock(), **self._seed_args)
        self._seeded_version = store.version
        self.portal = Portal(store, plan=plan, secret=secret, page_size=page_size,
                             operating_limit=operating_limit, clock=clock, seed=seed,
                             max_body_bytes=max_body_bytes, costs=costs)
        self.portal.rest_v3 = rest_v3
        self.portal.operating_time = operating_time
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._server = _Server((self.host, self._port), self.portal, family)
        self._port = self._server.server_address[1]
        self.portal.events.host = f"{self.host}:{self._port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"b24-sandbox-{self._port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # --- addresses -------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def secret(self) -> str:
        return self.portal.main_hook.secret

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/rest/1/{self.secret}/"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_sandbox/{self.secret}/"

    def add_webhook(self, user_id: int = 1, scopes: list[str] | None = None) -> str:
        """A webhook URL of that user, limited to `scopes` (None: every scope)."""
        with self.portal.lock:
            hook = self.portal.add_webhook(user_id, scopes)
        return f"{self.base_url}/rest/{hook.user_id}/{hook.secret}/"

    # --- test controls ---------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self.portal.faults

    @property
    def costs(self) -> Costs:
        return self.portal.costs

    @costs.setter
    def costs(self, costs: Costs) -> None:
        self.portal.costs = costs

    @property
    def counters(self) -> Counters:
        return self.portal.counters

    @property
    def store(self) -> Store:
        return self.portal.store

    def reset(self) -> None:
        """Clear faults, counters, limit state and idempotency records (the data and the costs stay)."""
        self.portal.reset()

    def restore_data(self) -> bool:
        """Back to the seeded data if anything was written since; True when a re-seed was needed."""
        with self.portal.lock:
            if self.portal.store.version == self._seeded_version:
                return False
            store = seed_store(self.seed, now=self._clock(), **self._seed_args)
            self._seeded_version = store.version
            self.portal.store = store
            return True
