"""The small HTTP server pieces the loopback listeners share (the OAuth redirect, event handlers)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from .errors import SdkError

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def open_server(serve: Serve, host: str, port: int, *, code: str, what: str) -> tuple[asyncio.Server, int]:
    """A listening server and the port it got; SdkError(code) naming `what` when the address is taken."""
    try:
        server = await asyncio.start_server(serve, host, port)
    except OSError as exc:
        raise SdkError(code, f"Cannot listen for {what} on {host}:{port} ({exc.strerror or exc}): choose another "
                       "port", 500) from None
    return server, server.sockets[0].getsockname()[1]


async def close_server(server: asyncio.Server | None) -> None:
    if server is not None:
        server.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()


async def send_reply(writer: asyncio.StreamWriter, status: str, body: bytes, content_type: str) -> None:
    """One HTTP/1.1 answer, then the connection closes."""
    writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}"
                 "\r\nConnection: close\r\n\r\n".encode() + body)
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()
