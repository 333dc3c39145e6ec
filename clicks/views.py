"""The tracking link, GET /track/v2/click: every affiliated shopper passes through here.

`answer_tracking_link` is the link's one implementation: it reads the request's WSGI
environ and answers status, headers and body, calling `record_click` for the click. Two
thin doors serve it. In production, `retrack.handlers.TrackingLinkRouter` answers it
straight from the WSGI server, without Django's request cycle, which cost a click as much
CPU as everything else together (bench/RESULTS.md). `track_click` below is the same link
as a Django view, for the URLconf: `reverse()`, `runserver` and live test servers.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedRedirect, SuspiciousOperation
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.loader import render_to_string
from django.utils.encoding import iri_to_uri

from clicks.models import URL_MAX_LENGTH, USER_AGENT_MAX_LENGTH
from clicks.services import ClickRefused, Visitor, record_click
from retrack.lib.geoip import visitor_country
from retrack.lib.visitors import client_ip, header_text, is_bot_agent

logger = logging.getLogger(__name__)

ALLOWED_METHODS = ("GET", "HEAD")
RETRY_AFTER_SECONDS = 5
_REFUSAL_TEMPLATES = {
    400: "clicks/bad_request.html",
    404: "clicks/not_found.html",
    410: "clicks/gone.html",
}


@dataclass(frozen=True)
class LinkAnswer:
    """What the tracking link answers, before the door it came through sends it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    # A redirected click stored as a bot's, for the router's metrics.
    is_bot: bool = False


def answer_tracking_link(environ: Mapping[str, Any]) -> LinkAnswer:
    """Record the click of a tracking link request and answer its redirect or refusal page."""
    method = environ.get("REQUEST_METHOD", "")
    if method not in ALLOWED_METHODS:
        allow = ("Allow", ", ".join(ALLOWED_METHODS))
        return _page("clicks/method_not_allowed.html", 405, headers=[allow])
    try:
        # Decoded as Django decodes request.GET, with its limit on the number of fields.
        parameters = dict(QueryDict(get_bytes_from_wsgi(environ, "QUERY_STRING", "")).lists())
    except SuspiciousOperation:
        return _page(
            "clicks/bad_request.html", 400, {"message": "This link is not a tracking link."}
        )
    visitor = visitor_from_environ(environ)
    try:
        redirect = record_click(parameters, visitor)
    except ClickRefused as refusal:
        return _page(
            _REFUSAL_TEMPLATES[refusal.status],
            refusal.status,
            {
                "message": refusal.message,
                "program_name": refusal.program_name,
                "landing_url": refusal.landing_url,
            },
        )
    except DatabaseError:
        # The click was not stored, so the shopper is not redirected: a redirect without a
        # click would lose the cashback without anyone noticing. A 503 asks to try again.
        logger.exception("A click could not be stored; the shopper was asked to retry")
        return _page(
            "clicks/unavailable.html",
            503,
            {"retry_url": _retry_url(environ)},
            headers=[("Retry-After", str(RETRY_AFTER_SECONDS))],
        )
    # As HttpResponseRedirect does: an IRI becomes a URI, and only the web's schemes pass.
    location = iri_to_uri(redirect.location)
    if not location.startswith(("https://", "http://")):
        raise DisallowedRedirect(f"Unsafe redirect to URL with protocol {location[:10]!r}")
    return LinkAnswer(
        302, [("Location", location), ("Cache-Control", "no-store")], is_bot=visitor.is_bot
    )


def visitor_from_environ(environ: Mapping[str, Any]) -> Visitor:
    """The shopper as the request's headers and address describe it, cleaned."""
    ip_address = client_ip(environ, settings.RETRACK_TRUSTED_PROXIES)
    browser = header_text(environ, "HTTP_USER_AGENT", USER_AGENT_MAX_LENGTH)
    return Visitor(
        ip_address=ip_address,
        browser=browser,
        referer=header_text(environ, "HTTP_REFERER", URL_MAX_LENGTH),
        country=visitor_country(
            environ,
            ip_address,
            header_name=settings.RETRACK_COUNTRY_HEADER,
            database_path=settings.RETRACK_GEOIP_PATH,
        ),
        is_bot=environ.get("REQUEST_METHOD") == "HEAD" or is_bot_agent(browser),
    )


# Autocommit even if ATOMIC_REQUESTS is ever turned on: the click must be committed
# before the redirect leaves, not after the response is built.
@transaction.non_atomic_requests
def track_click(request: HttpRequest) -> HttpResponse:
    """The tracking link as a Django view: the same answer, through Django's middleware."""
    answer = answer_tracking_link(request.META)
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        response[name] = value
    return response


def _page(
    template: str,
    status: int,
    context: dict | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> LinkAnswer:
    body = render_to_string(template, context or {}).encode()
    return LinkAnswer(
        status,
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            *(headers or []),
        ],
        body,
    )


def _retry_url(environ: Mapping[str, Any]) -> str:
    """The same tracking link again, relative, so that it holds under any path prefix."""
    return "?" + get_bytes_from_wsgi(environ, "QUERY_STRING", "").decode("iso-8859-1")
