"""A "browser" for the OAuth tests: opens the portal's authorize URL and follows its redirect to the loopback
listener, as a real browser would, without a display."""

from __future__ import annotations

import asyncio

import httpx


class HeadlessBrowser:
    """Pass it (or its ``open``) where the app opens a URL in the browser; each visit runs as a task."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.pages: list[asyncio.Task[httpx.Response]] = []

    def open(self, url: str) -> bool:
        self.urls.append(url)

        async def visit() -> httpx.Response:
            async with httpx.AsyncClient(follow_redirects=True) as browser:
                return await browser.get(url)

        self.pages.append(asyncio.ensure_future(visit()))
        return True

    __call__ = open

    async def last_page(self) -> httpx.Response:
        return await self.pages[-1]
