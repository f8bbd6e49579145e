"""Helpers of the app-connection tests: a headless authorization (a "browser" that follows the portal's redirect
to the loopback listener) and a client for an app session."""

from __future__ import annotations

from typing import Any

from headless_browser import HeadlessBrowser

from b24explorer.core import B24Client, LimitsConfig, LogBus
from b24explorer.core.oauth import OAuthApp, OAuthCredentials, OAuthSession
from b24explorer.core.oauth_redirect import authorize_app
from b24explorer.sandbox import Sandbox


def sandbox_app(sb: Sandbox, **kw: Any) -> OAuthApp:
    app = sb.portal.oauth.app
    return OAuthApp(kw.get("client_id", app.client_id), kw.get("client_secret", app.client_secret),
                    f"{sb.base_url}/oauth/token/")


async def authorize(sb: Sandbox, browser: HeadlessBrowser | None = None) -> OAuthCredentials:
    browser = browser or HeadlessBrowser()
    credentials = await authorize_app(sb.base_url, sandbox_app(sb), open_browser=browser.open, wait_s=10)
    await browser.last_page()
    return credentials


def app_client(session: OAuthSession, **kw: Any) -> B24Client:
    kw.setdefault("limits", LimitsConfig.unlimited())
    kw.setdefault("log", LogBus(keep=1000))
    return B24Client(session, **kw)
