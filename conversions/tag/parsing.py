"""Reading what the browser tag (`retrack.js`) and the `<noscript>` pixel send.

Everything here is untrusted browser input. A report that is not well formed, or whose
page is not on one of its program's allowed domains, is refused with `TagRefused`, whose
reason goes to the log only.
"""

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.http import QueryDict

from retrack.lib.urls import allowed_http_url
from retrack.lib.uuids import parse_uuid

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


class TagRefused(Exception):
    """A tag report that is dropped; the reason goes to the logs, never to the browser.

    `code` and `status` are the report log's: what the store API would have answered.
    """

    def __init__(self, message: str, code: str = "invalid", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True)
class TagReport:
    """A parsed report: its kind, its click and the store API payload (click included)."""

    kind: str
    click: uuid.UUID
    payload: dict[str, Any]


def _parse_click(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise TagRefused("click is missing or not a string")
    click = parse_uuid(value)
    if click is None:
        raise TagRefused("click is not a UUID")
    return click


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
    except RecursionError:
        # A page can send `[[[[…` to tens of thousands of levels; the decoder gives up.
        raise TagRefused("the body is nested too deeply") from None
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
        raise TagRefused("neither Origin nor Referer names the page", "origin_refused", 403)
    if allowed_http_url(origin + "/", program_domains) is None:
        raise TagRefused(
            f"The page {origin!r} is not on an allowed domain of the program.",
            "origin_refused",
            403,
        )
