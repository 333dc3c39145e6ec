"""The browser endpoints: the tag itself, the conversion beacon and the `<noscript>` pixel.

Browser input is untrusted and the answer never depends on it: a report that is stored
and one that is refused get the same empty answer (what became of it goes to the store's
report log), so a page cannot probe clicks or programs. Only the throttle answers
differently (429), and it says nothing about the report. Debug mode (`?debug=1` on the
beacon, contract section 3) answers the verdict, for a developer testing a page.
"""

import hashlib
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import get_conditional_response
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST, require_safe

from conversions.models import ConversionSource, ReportOutcome, ReportSource
from conversions.services.report_log import ReportVerdict, log_report
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
from retrack.metrics import count_report

logger = logging.getLogger("retrack.tag")

THROTTLED = ReportVerdict(
    ReportOutcome.REFUSED, 429, "throttled", "Too many reports for this click; try later."
)

TAG_PATH = Path(__file__).resolve().parent / "retrack.js"
TAG_MAX_AGE_SECONDS = 3600
# The smallest transparent 1×1 GIF.
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


class _TagGZipMiddleware(GZipMiddleware):
    # The tag holds no secret and reflects no input, so BREACH padding (up to 100 random
    # bytes) would only make every download bigger.
    max_random_bytes = 0


gzip_tag = decorator_from_middleware(_TagGZipMiddleware)


def served_tag(source: str) -> bytes:
    """The tag as browsers get it: without indentation, blank lines and comment lines.

    The source stays commented and readable; what is sent stays within its size budget.
    Safe for this file: it has no template literals and no comment after code on a line.
    """
    lines = (line.strip() for line in source.splitlines())
    kept = [line for line in lines if line and not line.startswith(("//", "/*"))]
    return ("\n".join(kept) + "\n").encode()


@cache
def _tag() -> tuple[bytes, str]:
    content = served_tag(TAG_PATH.read_text())
    return content, '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _throttled() -> HttpResponse:
    response = HttpResponse(status=429)
    response["Retry-After"] = str(THROTTLE_WINDOW_SECONDS)
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _accept_report(
    request: HttpRequest, parse: Callable[[], TagReport], source: ReportSource, payload: bytes | str
) -> ReportVerdict:
    """Throttle, parse, check, store and log one report; what became of it."""
    address = client_ip(request.META, settings.RETRACK_TRUSTED_PROXIES) or "unknown"
    if ip_over_limit(address):
        # Not logged: a flood from one address must not fill the log either.
        logger.info("throttled: too many reports from one address")
        count_report("tag", "throttled")
        return THROTTLED
    report = None
    try:
        report = parse()
    except TagRefused as refusal:
        verdict = ReportVerdict(
            ReportOutcome.REFUSED, refusal.status, refusal.code, refusal.message
        )
    else:
        if click_over_limit(report.click):
            verdict = THROTTLED
        else:
            origin = page_origin(request.headers.get("Origin"), request.headers.get("Referer"))
            verdict = record_tag_report(report, origin=origin, source=ConversionSource(source))
    if verdict.outcome == ReportOutcome.REFUSED:
        # repr: a line break in a browser's field name must not forge a log line.
        logger.info("refused: %s %s: %r", source, verdict.code, verdict.message)
    else:
        logger.info("recorded %s %s: %s", source, verdict.outcome, verdict.conversion.uuid)
    count_report("tag", _counted_outcome(verdict))
    log_report(
        verdict,
        source=source,
        kind=report.kind if report else None,
        store_id=verdict.program.store_id if verdict.program else None,
        payload=payload,
        sent=report.payload if report else None,
    )
    return verdict


def _counted_outcome(verdict: ReportVerdict) -> str:
    """The metrics' outcome of a browser report: `recorded`, `throttled` or `refused`."""
    if verdict.outcome != ReportOutcome.REFUSED:
        return "recorded"
    return "throttled" if verdict.code == THROTTLED.code else "refused"


def debug_verdict(verdict: ReportVerdict) -> dict:
    """Debug mode's answer: the report log's verdict, for the developer's console."""
    return {
        "outcome": str(verdict.outcome),
        "code": verdict.code,
        "message": verdict.message,
        "conversion": str(verdict.conversion.uuid) if verdict.conversion else None,
    }


@gzip_tag
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

    length = request.headers.get("Content-Length", "")
    body = None
    if not (length.isdigit() and int(length) > BODY_MAX_BYTES):
        try:
            body = request.body
        except RequestDataTooBig:
            body = None

    def parse() -> TagReport:
        if body is None:
            raise TagRefused("The body is too large.")
        return parse_beacon(body, request.content_type or "")

    verdict = _accept_report(request, parse, ReportSource.SCRIPT, body or b"")
    if verdict is THROTTLED:
        return _throttled()
    if request.GET.get("debug") == "1":
        response = JsonResponse({"data": debug_verdict(verdict)})
    else:
        response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    # The body is empty whatever happened, so any page may see the answer.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def pixel(request: HttpRequest) -> HttpResponse:
    """The `<noscript>` pixel: the report's fields as query parameters; always the GIF."""
    verdict = _accept_report(
        request,
        lambda: parse_pixel(request.GET),
        ReportSource.PIXEL,
        request.META.get("QUERY_STRING", ""),
    )
    if verdict is THROTTLED:
        return _throttled()
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
