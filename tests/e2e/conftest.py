"""A real headless Chromium, a live Retrack server and a demo store on other origins.

One browser, one Retrack server and one demo store per test session (per pytest-xdist
worker, each with its own test database); each journey gets a fresh browser context, so
no cookie crosses from one journey to the next.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, Request, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.e2e.demo_store import PARTNER_HOST, STORE_HOST, Site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
RETRACK_HOST = "127.0.0.1"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: run `make browser` (apt-get)")
    # Playwright's sync API keeps an asyncio loop registered on this thread while it
    # lives, and Django refuses database access from a thread with a running loop. The
    # loop never runs our code, so the check is lifted for exactly as long as the browser.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ[ASYNC_UNSAFE]
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(scope="session")
def retrack_server(django_db_setup, django_db_blocker) -> Iterator[LiveServer]:
    """Retrack itself, threaded, on 127.0.0.1 and a free port, using the test database."""
    with django_db_blocker.unblock():
        server = LiveServer(RETRACK_HOST)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def store_site() -> Iterator[Site]:
    site = Site(STORE_HOST).start()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def partner_site() -> Iterator[Site]:
    site = Site(PARTNER_HOST).start()
    yield site
    site.stop()


@dataclass
class Journey:
    """One shopper's browser, and the requests it sent to Retrack's tag endpoints."""

    page: Page
    retrack_url: str
    tag_requests: list[str] = field(default_factory=list)


@pytest.fixture
def journey(browser, retrack_server, store_site, partner_site, transactional_db, settings):
    """A fresh browser context; Retrack's snippets point at the live server."""
    settings.RETRACK_PUBLIC_URL = retrack_server.url
    cache.clear()
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    current = Journey(page=page, retrack_url=retrack_server.url)

    def note_tag_request(request: Request) -> None:
        if request.url.startswith(retrack_server.url + "/track/v2/"):
            current.tag_requests.append(request.url)

    page.on("request", note_tag_request)
    yield current
    context.close()
    cache.clear()
