"""Tiny web sites for the end-to-end journeys: a demo store and a partner page.

Each site is a stdlib HTTP server on its own loopback address and a free port, so the
browser sees three different sites: Retrack (127.0.0.1), the store (127.0.0.2) and the
partner (127.0.0.3). The store's pages are built from the program's own snippets, so the
journeys also prove that what the back office hands to a store works as given.
"""

import html
import threading
from collections.abc import Callable
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from conversions.tag.snippets import program_snippets, tag_loader_snippet
from stores.models import Program
from tests.factories import ProgramFactory

STORE_HOST = "127.0.0.2"
PARTNER_HOST = "127.0.0.3"

# A page is its HTML, or a function of the request's cookies returning it.
Page = str | Callable[[dict[str, str]], str]


class Site:
    """A web site on its own origin serving `pages` (path → HTML) from a thread."""

    def __init__(self, host: str) -> None:
        self.pages: dict[str, Page] = {}
        self.requested: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                site.requested.append(path)
                page = site.pages.get(path)
                if page is None:
                    self.send_error(404)
                    return
                if callable(page):
                    cookies = SimpleCookie(self.headers.get("Cookie", ""))
                    page = page({name: morsel.value for name, morsel in cookies.items()})
                body = page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:
                """Silent: the test output stays readable."""

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.origin = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.origin + path

    def start(self) -> "Site":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _page(title: str, head: str = "", body: str = "") -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"{head}</head><body><h1>{title}</h1>{body}</body></html>"
    )


# The shopper leaves the confirmation page as soon as it has loaded: the report must
# survive that (sendBeacon), not rely on the page staying open.
LEAVE_AT_ONCE = '<script>addEventListener("load", () => location.replace("/thanks"));</script>'


def store_program(site: Site, *, redirect_page: bool = True, **fields) -> Program:
    """A program whose landing page, allowed domain and redirect page are on this site."""
    return ProgramFactory(
        landing_url=site.url("/"),
        allowed_domains=[site.origin.removeprefix("http://")],
        redirect_page_url=site.url("/retrack") if redirect_page else "",
        **fields,
    )


def install_store(site: Site, program: Program) -> None:
    """Serve a demo store integrated with `program` exactly as its snippets say."""
    snippets = program_snippets(program)
    loader = tag_loader_snippet()
    site.pages.clear()
    site.requested.clear()
    site.pages.update(
        {
            "/retrack": snippets["redirect_page"],
            "/": _page("Demo store", loader, '<a id="shoe" href="/product/shoe">Shoes</a>'),
            "/product/shoe": _page(
                "Running shoe", loader, '<a id="buy" href="/order/confirmation">Buy</a>'
            ),
            "/order/confirmation": _page(
                "Thank you for your order", snippets["loader_transaction"] + LEAVE_AT_ONCE
            ),
            "/signup": _page("Newsletter", loader, '<a id="signup" href="/signup/done">Join</a>'),
            "/signup/done": _page("Welcome", snippets["lead"] + LEAVE_AT_ONCE),
            "/thanks": _page("See you soon"),
        }
    )


def partner_page(site: Site, tracking_link: str) -> str:
    """Serve the partner's page linking to `tracking_link`; returns its URL."""
    site.pages["/"] = _page(
        "Refunder", body=f'<a id="shop" href="{html.escape(tracking_link)}">Shop with cashback</a>'
    )
    return site.url("/")
