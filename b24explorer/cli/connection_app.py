"""`b24x connection add NAME --oauth …`: an application connection, authorized in the browser (or without one:
the authorize URL is printed and the redirect awaited) or from tokens pasted on stdin.

The client secret and pasted tokens come from the environment or stdin; ``--client-secret`` is accepted (the
issue's form) with a warning, since an argument lands in the shell's history. Everything secret goes to the OS
keyring as one entry under the connection's id.
"""

from __future__ import annotations

import argparse
import ssl
import webbrowser
from typing import TYPE_CHECKING

from ..core.errors import SdkError
from .base import BadInput, Environment

if TYPE_CHECKING:
    from ..core.oauth import OAuthApp, OAuthCredentials

CLIENT_SECRET_ENV = "B24X_CLIENT_SECRET"
ACCESS_TOKEN_ENV = "B24X_ACCESS_TOKEN"
REFRESH_TOKEN_ENV = "B24X_REFRESH_TOKEN"


def add_app_options(add: argparse.ArgumentParser) -> None:
    app = add.add_argument_group(
        "an application (OAuth 2.0) instead of a webhook",
        f"The client secret comes from ${CLIENT_SECRET_ENV} or stdin (first line); pasted tokens from "
        f"${ACCESS_TOKEN_ENV} and ${REFRESH_TOKEN_ENV} or stdin (the next two lines).")
    app.add_argument("--oauth", action="store_true", help="connect as a local application (client id and secret)")
    app.add_argument("--portal", metavar="URL", help="the portal, e.g. https://your-portal.bitrix24.com")
    app.add_argument("--client-id", metavar="ID", help="the application's client id (its card on the portal)")
    app.add_argument("--client-secret", metavar="S",
                     help=f"the client secret (better: ${CLIENT_SECRET_ENV} or stdin — an argument stays in the "
                          "shell's history)")
    app.add_argument("--oauth-server", metavar="URL", default="",
                     help="the OAuth server (default https://oauth.bitrix.info/oauth/token/)")
    app.add_argument("--no-browser", action="store_true",
                     help="print `AUTHORIZE <url>` on stderr instead of opening a browser, then wait for the redirect")
    app.add_argument("--paste-tokens", action="store_true",
                     help="use an access and a refresh token of an app authorized elsewhere (no browser)")
    app.add_argument("--port", type=int, default=0,
                     help="the loopback port of the redirect (fix it so the handler URL stays the same)")
    app.add_argument("--wait", type=float, default=300.0, metavar="S", help="seconds to wait for the redirect")


def wants_app(args: argparse.Namespace) -> bool:
    """Whether `add` is for an application; options of one without --oauth are bad input."""
    given = [flag for flag, value in (("--portal", args.portal), ("--client-id", args.client_id),
                                      ("--client-secret", args.client_secret), ("--oauth-server", args.oauth_server),
                                      ("--no-browser", args.no_browser), ("--paste-tokens", args.paste_tokens))
             if value]
    if given and not args.oauth:
        raise BadInput(f"{', '.join(given)} need --oauth (an application connection)")
    return bool(args.oauth)


async def app_credentials(args: argparse.Namespace, env: Environment) -> OAuthCredentials:
    """The app's credentials: authorized now through the portal's authorize page, or from pasted tokens."""
    from ..core.oauth import OAuthApp, OAuthCredentials, TokenSet, normalize_portal
    from ..core.tls import tls_context

    if not args.portal or not args.client_id:
        raise BadInput("an application needs --portal URL and --client-id ID")
    try:
        portal = normalize_portal(args.portal)
        verify = tls_context(args.ca_file or None)
    except SdkError as exc:
        raise BadInput(exc.message) from None
    lines = _StdinLines(env)
    secret = _client_secret(args, env, lines)
    try:
        app = OAuthApp(args.client_id, secret, args.oauth_server)
    except SdkError as exc:
        raise BadInput(exc.message) from None
    if args.paste_tokens:
        access = env.environ.get(ACCESS_TOKEN_ENV, "").strip() or lines.read("the access token")
        refresh = env.environ.get(REFRESH_TOKEN_ENV, "").strip() or lines.read("the refresh token")
        try:
            return OAuthCredentials(portal, app, TokenSet.pasted(access, refresh))
        except SdkError as exc:
            raise BadInput(exc.message) from None
    return await _authorize(portal, app, args, env, verify)


async def _authorize(portal: str, app: OAuthApp, args: argparse.Namespace, env: Environment,
                     verify: ssl.SSLContext) -> OAuthCredentials:
    from ..core.oauth_redirect import authorize_app

    def show_handler(uri: str) -> None:
        env.say(f"REDIRECT {uri}  (the application's handler URL on the portal must be this address)")

    def open_page(url: str) -> None:
        if args.no_browser or not webbrowser.open(url):
            env.say(f"AUTHORIZE {url}")
        env.say(f"waiting up to {args.wait:.0f} s for the portal's redirect…")

    return await authorize_app(portal, app, open_browser=open_page, on_listening=show_handler, port=args.port,
                               wait_s=args.wait, verify=verify)


def _client_secret(args: argparse.Namespace, env: Environment, lines: _StdinLines) -> str:
    if args.client_secret:
        env.say(f"warning: --client-secret stays in the shell's history; prefer ${CLIENT_SECRET_ENV} or stdin")
        return str(args.client_secret)
    return env.environ.get(CLIENT_SECRET_ENV, "").strip() or lines.read("the client secret")


class _StdinLines:
    """Secrets read one line at a time from stdin, with a prompt when it is a terminal."""

    def __init__(self, env: Environment) -> None:
        self.env = env

    def read(self, what: str) -> str:
        if self.env.stdin.isatty():
            self.env.say(f"Paste {what}, then press Enter:")
        text = self.env.stdin.readline().strip()
        if not text:
            raise BadInput(f"no {what}: give it on stdin (or in the environment)")
        return text
