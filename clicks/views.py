"""The tracking link, GET /track/v2/click: every affiliated shopper passes through here.

It stays a plain Django view on the hot path: at most one cached lookup and one INSERT.
"""

import logging

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

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


# Autocommit even if ATOMIC_REQUESTS is ever turned on: the click must be committed
# before the redirect leaves, not after the response is built.
@transaction.non_atomic_requests
def track_click(request: HttpRequest) -> HttpResponse:
    if request.method not in ALLOWED_METHODS:
        response = _page(request, "clicks/method_not_allowed.html", 405)
        response["Allow"] = ", ".join(ALLOWED_METHODS)
        return response
    try:
        parameters = dict(request.GET.lists())
    except SuspiciousOperation:
        # More parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS.
        message = "This link is not a tracking link."
        return _page(request, "clicks/bad_request.html", 400, {"message": message})
    try:
        redirect = record_click(parameters, _visitor(request))
    except ClickRefused as refusal:
        return _page(
            request,
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
        response = _page(request, "clicks/unavailable.html", 503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    response = HttpResponseRedirect(redirect.location)
    response["Cache-Control"] = "no-store"
    return response


def _visitor(request: HttpRequest) -> Visitor:
    meta = request.META
    ip_address = client_ip(meta, settings.RETRACK_TRUSTED_PROXIES)
    browser = header_text(meta, "HTTP_USER_AGENT", USER_AGENT_MAX_LENGTH)
    return Visitor(
        ip_address=ip_address,
        browser=browser,
        referer=header_text(meta, "HTTP_REFERER", URL_MAX_LENGTH),
        country=visitor_country(
            meta,
            ip_address,
            header_name=settings.RETRACK_COUNTRY_HEADER,
            database_path=settings.RETRACK_GEOIP_PATH,
        ),
        is_bot=request.method == "HEAD" or is_bot_agent(browser),
    )


def _page(
    request: HttpRequest, template: str, status: int, context: dict | None = None
) -> HttpResponse:
    response = render(request, template, context or {}, status=status)
    response["Cache-Control"] = "no-store"
    return response
