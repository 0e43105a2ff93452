"""Debian's Chromium, driven by Playwright (its own browser download fails here): one way to start it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
#: headless, no sandbox (root in a container), nothing the browser would fetch for itself
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@contextmanager
def launched(*extra: str) -> Iterator[Any]:
    """A Playwright ``Browser`` of ``/usr/bin/chromium`` with ``ARGS`` and ``extra``; the test is
    skipped where the Debian package is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, *extra])
        try:
            yield browser
        finally:
            browser.close()


def only_to(context: Any, origin: str, blocked: list[str]) -> None:
    """Let the browser ``context`` reach ``origin`` only: other requests are aborted, their URLs kept in ``blocked``."""

    def route(request_route: Any) -> None:
        if request_route.request.url.startswith(origin + "/"):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
