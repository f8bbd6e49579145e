"""The loopback listener that receives the portal's redirect (``?code=…&state=…``) after authorization.

It listens on 127.0.0.1 only; :attr:`RedirectListener.redirect_uri` is the address to enter as the
application's handler URL on the portal (pick a fixed `port` so it stays the same from run to run).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlsplit

from .errors import SdkError
from .loopback_http import close_server, open_server, send_reply
from .oauth import (
    OAuthApp,
    OAuthCredentials,
    OAuthError,
    authorize_url,
    exchange_code,
    new_state,
    normalize_portal,
)

OAUTH_REDIRECT_TIMEOUT = "OAUTH_REDIRECT_TIMEOUT"
_PAGE = ("<!doctype html><meta charset='utf-8'><title>b24explorer</title>"
         "<p style='font-family:sans-serif'>{text}</p>")
_MAX_HEAD = 16 * 1024


@dataclass(frozen=True)
class Redirect:
    """What the portal sent back: the one-time code and the portal's own words about itself."""

    code: str
    domain: str = ""
    member_id: str = ""
    scope: str = ""
    server_domain: str = ""


class RedirectListener:
    """`async with RedirectListener(state) as listener: … await listener.wait()`."""

    def __init__(self, state: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[Redirect] | None = None

    async def __aenter__(self) -> RedirectListener:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._result = asyncio.get_running_loop().create_future()
        self._server, self.port = await open_server(self._serve, self.host, self.port, code="OAUTH_REDIRECT_LISTEN",
                                                    what="the redirect")

    async def close(self) -> None:
        server, self._server = self._server, None
        await close_server(server)

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def wait(self, wait_s: float | None = 300.0) -> Redirect:
        """The redirect's code; OAuthError when the portal sent an error; SdkError when none came in time."""
        assert self._result is not None, "start() the listener first"
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), wait_s)
        except TimeoutError:
            raise SdkError(OAUTH_REDIRECT_TIMEOUT, f"No redirect arrived at {self.redirect_uri} within "
                           f"{wait_s or 0:.0f} s: check that it is the application's handler URL on the portal, "
                           "then try again", 408) from None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        line = head[:_MAX_HEAD].split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        target = parts[1] if len(parts) >= 2 else "/"
        query = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
        status, text = self._accept(query)
        await send_reply(writer, status, _PAGE.format(text=text).encode(), "text/html; charset=utf-8")

    def _accept(self, query: dict[str, str]) -> tuple[str, str]:
        result = self._result
        if result is None or result.done():
            return "410 Gone", "This sign-in is already finished. You can close this tab."
        if "code" not in query and "error" not in query:
            return "404 Not Found", "Waiting for the portal's redirect."
        if query.get("state") != self.state:
            return "400 Bad Request", "This redirect does not belong to the sign-in in progress; it was ignored."
        if "error" in query:
            result.set_exception(OAuthError(query["error"], f"The portal refused the authorization: "
                                            f"{query.get('error_description') or query['error']}.",
                                            action="Check the application on the portal and try again."))
            return "200 OK", "The portal refused the authorization. You can close this tab."
        result.set_result(Redirect(code=query["code"], domain=query.get("domain", ""),
                                   member_id=query.get("member_id", ""), scope=query.get("scope", ""),
                                   server_domain=query.get("server_domain", "")))
        return "200 OK", "b24explorer is connected. You can close this tab."


async def authorize_app(
    portal: str,
    app: OAuthApp,
    *,
    open_browser: Callable[[str], object],
    on_listening: Callable[[str], object] | None = None,
    port: int = 0,
    wait_s: float = 300.0,
    verify: ssl.SSLContext | None = None,
) -> OAuthCredentials:
    """The whole authorization-code flow: listen on loopback, open the portal's authorize page, wait for the
    redirect, exchange the code. `on_listening` gets the redirect address (the app's handler URL) first;
    `open_browser` gets the authorize URL (a CLI without a browser prints it)."""
    portal = normalize_portal(portal)
    state = new_state()
    async with RedirectListener(state, port=port) as listener:
        if on_listening is not None:
            on_listening(listener.redirect_uri)
        open_browser(authorize_url(portal, app.client_id, state, listener.redirect_uri))
        redirect = await listener.wait(wait_s)
    tokens = await exchange_code(app, redirect.code, verify=verify)
    if not tokens.member_id and redirect.member_id:
        tokens = replace(tokens, member_id=redirect.member_id)
    return OAuthCredentials(portal=portal, app=app, tokens=tokens)
