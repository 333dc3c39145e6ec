"""The browser endpoints: the tag itself, the conversion beacon and the `<noscript>` pixel.

Browser input is untrusted and the answer never depends on it: a report that is stored
and one that is refused get the same empty answer (the reason is logged under
`retrack.tag`), so a page cannot probe clicks or programs. Only the throttle answers
differently (429), and it says nothing about the report.
"""

import hashlib
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_POST, require_safe

from conversions.tag.parsing import (
    BODY_MAX_BYTES,
    TagRefused,
    TagReport,
    page_origin,
    parse_beacon,
    parse_pixel,
)
from conversions.tag.services import record_tag_report
from conversions.tag.throttling import THROTTLE_WINDOW_SECONDS, click_over_limit, ip_over_limit
from retrack.lib.visitors import client_ip

logger = logging.getLogger("retrack.tag")

TAG_PATH = Path(__file__).resolve().parent / "retrack.js"
TAG_MAX_AGE_SECONDS = 3600
# The smallest transparent 1×1 GIF.
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


@cache
def _tag() -> tuple[bytes, str]:
    content = TAG_PATH.read_bytes()
    return content, '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _throttled() -> HttpResponse:
    response = HttpResponse(status=429)
    response["Retry-After"] = str(THROTTLE_WINDOW_SECONDS)
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _accept_report(request: HttpRequest, parse: Callable[[], TagReport]) -> bool:
    """Throttle, parse, check and store one report; False when it was throttled."""
    address = client_ip(request.META, settings.RETRACK_TRUSTED_PROXIES) or "unknown"
    if ip_over_limit(address):
        logger.info("throttled: too many reports from one address")
        return False
    try:
        report = parse()
        if click_over_limit(report.click):
            logger.info("throttled: too many reports for click %s", report.click)
            return False
        origin = page_origin(request.headers.get("Origin"), request.headers.get("Referer"))
        conversion = record_tag_report(report, origin=origin)
    except TagRefused as refusal:
        logger.info("refused: %s", refusal)
        return True
    logger.info("recorded %s %s on click %s", report.kind, conversion.uuid, report.click)
    return True


@gzip_page
@require_safe
def retrack_js(request: HttpRequest) -> HttpResponse:
    """The tag: cacheable, revalidated by its ETag."""
    content, etag = _tag()
    response = HttpResponse(content, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={TAG_MAX_AGE_SECONDS}"
    # Stores may send COEP or load the tag with SRI; neither should break it.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    return get_conditional_response(request, etag=etag, response=response) or response


@csrf_exempt
@require_POST
def conversion(request: HttpRequest) -> HttpResponse:
    """The tag's beacon: a text/plain (or application/json) body holding one JSON report."""

    def parse() -> TagReport:
        length = request.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > BODY_MAX_BYTES:
            raise TagRefused("the body is too large")
        try:
            body = request.body
        except RequestDataTooBig:
            raise TagRefused("the body is too large") from None
        return parse_beacon(body, request.content_type or "")

    if not _accept_report(request, parse):
        return _throttled()
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    # The body is empty whatever happened, so any page may see the answer.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def pixel(request: HttpRequest) -> HttpResponse:
    """The `<noscript>` pixel: the report's fields as query parameters; always the GIF."""
    if not _accept_report(request, lambda: parse_pixel(request.GET)):
        return _throttled()
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
