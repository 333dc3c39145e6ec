"""The benchmark's baseline: a bare WSGI app that stores a click the way Retrack does.

No Django: it reads ref, ref2, ref3 and deeplink from the query string, makes the same
single INSERT into the same clicks table with psycopg (autocommit, one connection per
thread), and answers the same 302 to the redirect page. It checks nothing else, so it is
what the click path would cost with no framework and no safety at all.

Configured by environment: DATABASE_URL, BASELINE_PARTNER_ID, BASELINE_PROGRAM_ID,
BASELINE_REDIRECT_PAGE. Run: gunicorn bench.clicks_baseline:application
"""

import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrack.lib.uuids import uuid7  # noqa: E402  (pure Python, no Django)

DATABASE_URL = os.environ["DATABASE_URL"]
PARTNER_ID = int(os.environ["BASELINE_PARTNER_ID"])
PROGRAM_ID = int(os.environ["BASELINE_PROGRAM_ID"])
REDIRECT_PAGE = os.environ["BASELINE_REDIRECT_PAGE"]
INSERT = (
    "INSERT INTO clicks_click (uuid, partner_id, program_id, ref, ref2, ref3, deeplink, "
    "ip_address, browser, referer, country, created_at, is_bot, is_anonymized) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false, false)"
)

_local = threading.local()


def _connection() -> psycopg.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = _local.connection = psycopg.connect(DATABASE_URL, autocommit=True)
    return connection


def application(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))

    def first(name: str) -> str:
        return query.get(name, [""])[0]

    click_uuid = uuid7()
    deeplink = first("deeplink")
    _connection().execute(
        INSERT,
        (
            click_uuid,
            PARTNER_ID,
            PROGRAM_ID,
            first("ref"),
            first("ref2"),
            first("ref3"),
            deeplink,
            environ.get("REMOTE_ADDR") or None,
            environ.get("HTTP_USER_AGENT", "")[:512],
            environ.get("HTTP_REFERER", "")[:2048],
            "",
            datetime.now(UTC),
        ),
    )
    location = f"{REDIRECT_PAGE}?click={click_uuid}&deeplink={quote(deeplink, safe='')}"
    start_response(
        "302 Found",
        [("Location", location), ("Cache-Control", "no-store"), ("Content-Length", "0")],
    )
    return [b""]
