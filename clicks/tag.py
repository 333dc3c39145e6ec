"""Conversions reported by the browser tag (`retrack.js`) and the `<noscript>` pixel.

Everything here is untrusted browser input. A report is refused (`TagRefused`, with a
reason for the log only) unless it is well formed, names an existing click, comes from a
page on one of the click's program's allowed domains and passes the store API's own
validation; it is then stored by the very same service as the store API, so the tag and
the store's server reporting one order store one conversion.
"""

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import QueryDict

from clicks.models import Click
from conversions.models import Conversion, ConversionSource
from conversions.services import ConversionRefused, record_conversion
from retrack.lib.urls import allowed_http_url

logger = logging.getLogger("retrack.tag")

BODY_MAX_BYTES = 64 * 1024
BODY_CONTENT_TYPES = {"text/plain", "application/json"}
KINDS = ("transaction", "lead")
# The pixel's query parameters, per kind: the store API's fields without `products`.
PIXEL_FIELDS = {
    "transaction": ("event", "orderNumber", "orderSum", "vatSum", "currency", "voucher"),
    "lead": ("event", "reference", "voucher"),
}
PIXEL_INTEGER_FIELDS = {"orderSum", "vatSum"}
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")
THROTTLE_WINDOW_SECONDS = 60


class TagRefused(Exception):
    """A tag report that is dropped; the reason goes to the log, never to the browser."""


@dataclass(frozen=True)
class TagReport:
    """A parsed report: its kind, its click and the store API payload (click included)."""

    kind: str
    click: uuid.UUID
    payload: dict[str, Any]


def _parse_click(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise TagRefused("click is missing or not a string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise TagRefused("click is not a UUID") from None


def _parse_kind(value: Any) -> str:
    if value not in KINDS:
        raise TagRefused("kind is not 'transaction' or 'lead'")
    return value


def parse_beacon(body: bytes, content_type: str) -> TagReport:
    """The report in a beacon's body: one JSON object with `kind`, `click` and the fields."""
    if content_type not in BODY_CONTENT_TYPES:
        raise TagRefused("the body is neither text/plain nor application/json")
    if len(body) > BODY_MAX_BYTES:
        raise TagRefused("the body is too large")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise TagRefused("the body is not JSON") from None
    if not isinstance(document, dict):
        raise TagRefused("the body is not a JSON object")
    kind = _parse_kind(document.pop("kind", None))
    click = _parse_click(document.get("click"))
    return TagReport(kind=kind, click=click, payload=document)


def _pixel_value(name: str, value: str) -> str | int:
    # Query strings carry text: sums written as integers become integers, anything else is
    # passed on as text for the service to refuse with its usual validation.
    if name in PIXEL_INTEGER_FIELDS and _INTEGER.match(value):
        return int(value)
    return value


def parse_pixel(query: QueryDict) -> TagReport:
    """The report in a pixel's query string; only the kind's own fields are taken."""
    kind = _parse_kind(query.get("kind"))
    click = _parse_click(query.get("click"))
    payload: dict[str, Any] = {"click": query["click"]}
    for name in PIXEL_FIELDS[kind]:
        if name in query:
            payload[name] = _pixel_value(name, query[name])
    return TagReport(kind=kind, click=click, payload=payload)


def page_origin(origin: str | None, referer: str | None) -> str | None:
    """The `scheme://host[:port]` of the page that sent a request, from Origin or Referer.

    Origin wins; Referer is the fallback for image pixels, which send no Origin. An
    opaque origin ("null") names no page. None when neither header names one.
    """
    for header in (origin, referer):
        if not header or header == "null":
            continue
        try:
            parts = urlsplit(header)
        except ValueError:
            return None
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
        return None
    return None


def check_page_origin(program_domains: list[str], origin: str | None) -> None:
    """Refuse a report whose page is not on one of the program's allowed domains."""
    if origin is None:
        raise TagRefused("neither Origin nor Referer names the page")
    if allowed_http_url(origin + "/", program_domains) is None:
        raise TagRefused(f"the page {origin!r} is not on an allowed domain of the program")


def current_window() -> int:
    """The number of the current fixed throttling window."""
    return int(time.time() // THROTTLE_WINDOW_SECONDS)


def _count_in_window(key: str) -> int:
    cache_key = f"retrack:tag:{key}:{current_window()}"
    # add() then incr(): atomic on Redis and memcached, so concurrent workers never lose
    # a count; a key that expired in between starts the window again.
    cache.add(cache_key, 0, timeout=THROTTLE_WINDOW_SECONDS * 2)
    try:
        return cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, timeout=THROTTLE_WINDOW_SECONDS * 2)
        return 1


def ip_over_limit(ip_address: str) -> bool:
    """Count a tag request from `ip_address`; True once it is over the per-minute limit."""
    limit = settings.RETRACK_TAG_RATE_PER_IP
    return limit > 0 and _count_in_window(f"ip:{ip_address}") > limit


def click_over_limit(click: uuid.UUID) -> bool:
    """Count a report naming `click`; True once it is over the per-minute limit."""
    limit = settings.RETRACK_TAG_RATE_PER_CLICK
    return limit > 0 and _count_in_window(f"click:{click}") > limit


def record_tag_report(report: TagReport, *, origin: str | None) -> Conversion:
    """Store a tag report through the store API's service, or raise TagRefused."""
    click = Click.objects.select_related("program").filter(pk=report.click).first()
    if click is None:
        raise TagRefused(f"click {report.click} does not exist")
    check_page_origin(click.program.allowed_domains, origin)
    try:
        recorded = record_conversion(
            report.kind, report.payload, source=ConversionSource.SCRIPT, store=None
        )
    except ConversionRefused as refusal:
        # The code and the fields' repr only: field names are the browser's, and repr
        # keeps a line break in one from forging a log line.
        raise TagRefused(
            f"{report.kind} on click {report.click} refused: {refusal.code} {refusal.fields!r}"
        ) from None
    return recorded.conversion
