"""Helpers for click tests."""

import io
import os
import uuid
from datetime import datetime
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from clicks.models import Click
from retrack.lib.uuids import uuid7_floor
from retrack.wsgi import application
from tests.factories import AdmissionFactory
from tests.wsgi import serve


def uuid7_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 as a click made at `moment` gets it, for clicks created in the past."""
    floor = uuid7_floor(int(moment.timestamp() * 1000)).int
    return uuid.UUID(int=floor | int.from_bytes(os.urandom(7), "big") & ((1 << 56) - 1))


def query_of(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query, keep_blank_values=True)


CLICK_PATH = "/track/v2/click"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def link(partner, program, **extra) -> str:
    query = f"publisher={partner.uuid}&program={program.uuid}"
    for name, value in extra.items():
        query += f"&{name}={quote(value, safe='')}"
    return f"{CLICK_PATH}?{query}"


def open_link(client, url, **headers):
    headers.setdefault("HTTP_USER_AGENT", CHROME)
    return client.get(url, **headers)


def assert_refused(response, status: int, text: str) -> None:
    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"
    assert "Location" not in response
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert text in response.content.decode()
    assert Click.objects.count() == 0


def call(
    path: str, query: str = "", method: str = "GET", wsgi=application, **extra: str
) -> tuple[str, dict[str, str], bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "192.0.2.7",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        **extra,
    }
    status, headers, body = serve(wsgi, environ)
    return status, dict(headers), body


def link_query(ref: str = "38315327") -> str:
    admission = AdmissionFactory()
    return urlencode(
        {"publisher": admission.partner.uuid, "program": admission.program.uuid, "ref": ref}
    )
