"""Helpers of the app-connection tests: a headless authorization (a "browser" that follows the portal's redirect
to the loopback listener) and a client for an app session."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from b24explorer.core import B24Client, LimitsConfig, LogBus
from b24explorer.core.oauth import OAuthApp, OAuthCredentials, OAuthSession
from b24explorer.core.oauth_redirect import authorize_app
from b24explorer.sandbox import Sandbox


def sandbox_app(sb: Sandbox, **kw: Any) -> OAuthApp:
    app = sb.portal.oauth.app
    return OAuthApp(kw.get("client_id", app.client_id), kw.get("client_secret", app.client_secret),
                    f"{sb.base_url}/oauth/token/")


class HeadlessBrowser:
    """Opens the authorize URL like a browser would: follows the portal's redirect to the listener."""

    def __init__(self) -> None:
        self.pages: list[asyncio.Task[httpx.Response]] = []
        self.urls: list[str] = []

    def open(self, url: str) -> None:
        self.urls.append(url)

        async def visit() -> httpx.Response:
            async with httpx.AsyncClient(follow_redirects=True) as browser:
                return await browser.get(url)

        self.pages.append(asyncio.ensure_future(visit()))

    async def last_page(self) -> httpx.Response:
        return await self.pages[-1]


async def authorize(sb: Sandbox, browser: HeadlessBrowser | None = None) -> OAuthCredentials:
    browser = browser or HeadlessBrowser()
    credentials = await authorize_app(sb.base_url, sandbox_app(sb), open_browser=browser.open, wait_s=10)
    await browser.last_page()
    return credentials


def app_client(session: OAuthSession, **kw: Any) -> B24Client:
    kw.setdefault("limits", LimitsConfig.unlimited())
    kw.setdefault("log", LogBus(keep=1000))
    return B24Client(session, **kw)
