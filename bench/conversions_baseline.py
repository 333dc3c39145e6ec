"""`make bench-conversions`'s baseline: the store API's create path with no framework.

A bare WSGI app that does what `POST /api/v2/transactions` does on the create path, with
psycopg directly (one connection per thread, psycopg's own prepared statements):

- the token: its hash looked up with its store, refused 401 if unknown or revoked, its
  last-used stamp written at most once a minute;
- the body: JSON; the click with its program and partner (422 if unknown or another
  store's, or the currency differs); the events of the program named by the body;
- the commission, per line, half up (percent of net, or fixed per unit);
- one transaction: the click's row locked, its conversions of the last day counted (the
  `click_reused` and `too_fast` flags), the conversion, its lines (one INSERT), its flags,
  the next change sequence, the `created` history entry with its snapshot, the partner's
  active webhook endpoints read;
- the report log entry, after it, as Retrack writes it;
- 201 with the conversion's document and its Location.

It validates nothing else (no field checks, no limits, no idempotency beyond the unique
constraint, no replay answer), so it is what the same writes cost with no framework and
no safety: the floor the store API is measured against. Configured by DATABASE_URL.
Run: gunicorn bench.conversions_baseline:application
"""

import hashlib
import json
import os
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrack.lib.uuids import uuid7  # noqa: E402  (pure Python, no Django)

DATABASE_URL = os.environ["DATABASE_URL"]
TOKEN = (
    "SELECT t.id, t.last_used_at, s.id, s.uuid, s.name FROM stores_storetoken t "
    "JOIN stores_store s ON s.id = t.store_id WHERE t.key_hash = %s AND t.revoked_at IS NULL"
)
TOUCH = "UPDATE stores_storetoken SET last_used_at = %s WHERE id = %s"
CLICK = (
    "SELECT c.uuid, c.ref, c.ref2, c.ref3, c.deeplink, c.ip_address, c.browser, c.referer, "
    "c.country, c.created_at, c.is_bot, c.test, p.id, p.uuid, p.name, p.store_id, p.currency, "
    "p.min_seconds_to_conversion, p.max_conversions_per_click_per_day, a.id, a.uuid, a.name, "
    "a.created_at FROM clicks_click c JOIN stores_program p ON p.id = c.program_id "
    "JOIN partners_partner a ON a.id = c.partner_id WHERE c.uuid = %s"
)
EVENTS = (
    "SELECT uuid, id, name, kind, percent, fixed_amount FROM stores_event "
    "WHERE program_id = %s AND uuid = ANY(%s)"
)
LOCK = "SELECT uuid FROM clicks_click WHERE uuid = %s FOR UPDATE"
EARLIER = "SELECT COUNT(*) FROM conversions_conversion WHERE click_id = %s AND created_at > %s"
CONVERSION = (
    "INSERT INTO conversions_conversion (uuid, kind, status, status_reason, program_id, "
    "partner_id, click_id, event_id, order_number, order_sum, vat_sum, commission, "
    "commission_breakdown, currency, vouchers, source, confirmed, test, payload_fingerprint, "
    "created_at, updated_at) VALUES (%s, 'transaction', 'pending', '', %s, %s, %s, %s, %s, %s, "
    "%s, %s, %s, %s, %s, 'api', true, %s, %s, %s, %s) RETURNING id"
)
LINES = (
    "INSERT INTO conversions_productline (conversion_id, position, event_id, reference, name, "
    "quantity, price, vat, commission) SELECT %s, * FROM UNNEST(%s::smallint[], %s::bigint[], "
    "%s::varchar[], %s::varchar[], %s::integer[], %s::bigint[], %s::bigint[], %s::bigint[])"
)
FLAG = (
    "INSERT INTO conversions_conversionflag (conversion_id, code, reason, raised_at, cleared_by) "
    "VALUES (%s, %s, %s, %s, '') ON CONFLICT DO NOTHING"
)
SEQUENCE = (
    "INSERT INTO conversions_changecounter AS counter (id, last_sequence) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET last_sequence = counter.last_sequence + 1 "
    "RETURNING last_sequence"
)
CHANGE = (
    "INSERT INTO conversions_conversionchange (conversion_id, partner_id, sequence, action, "
    "actor, reason, changes, snapshot, test, created_at) "
    "VALUES (%s, %s, %s, 'created', %s, '', %s, %s, %s, %s)"
)
ENDPOINTS = (
    "SELECT id FROM partners_webhookendpoint WHERE partner_id = %s AND active "
    "ORDER BY created_at, id"
)
LOG = (
    "INSERT INTO conversions_reportlogentry (uuid, received_at, source, kind, outcome, code, "
    "message, status_code, store_id, program_id, click, key, conversion_id, test, payload) "
    "VALUES (%s, %s, 'api', 'transaction', 'created', NULL, '', 201, %s, %s, %s, %s, %s, %s, %s)"
)

_local = threading.local()


def _connection() -> psycopg.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = _local.connection = psycopg.connect(DATABASE_URL, autocommit=True)
    return connection


def _answer(start_response, status: str, document: dict, headers=()) -> list[bytes]:
    body = json.dumps(document, separators=(",", ":")).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *headers,
        ],
    )
    return [body]


def _refused(start_response, status: str, code: str) -> list[bytes]:
    return _answer(start_response, status, {"error": {"code": code, "message": "", "fields": {}}})


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _line_commission(event: tuple, line: dict) -> tuple[int, dict]:
    event_uuid, _, name, _, percent, fixed = event
    described = {"uuid": str(event_uuid), "name": name}
    if percent is not None:
        base = line["quantity"] * (line["price"] - line["vat"])
        result = int((Decimal(base) * percent / 100).quantize(Decimal(1), ROUND_HALF_UP))
        entry = {"method": "percent_of_net", "base": base, "rate": f"{percent.normalize():f}"}
    else:
        result = line["quantity"] * fixed
        entry = {"method": "fixed_per_unit", "base": line["quantity"], "rate": str(fixed)}
    return result, {"event": described, **entry, "result": result}


def application(environ, start_response):
    scheme, _, secret = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return _refused(start_response, "401 Unauthorized", "not_authenticated")
    db = _connection()
    now = datetime.now(UTC)
    # Autocommit outside the one transaction, as Retrack (Django) runs its reads.
    token = db.execute(TOKEN, (hashlib.sha256(secret.encode()).hexdigest(),)).fetchone()
    if token is None:
        return _refused(start_response, "401 Unauthorized", "authentication_failed")
    token_id, last_used, store_id, store_uuid, store_name = token
    if last_used is None or now - last_used > timedelta(minutes=1):
        db.execute(TOUCH, (now, token_id))
    raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    report = json.loads(raw)
    click = db.execute(CLICK, (report["click"],)).fetchone()
    if click is None or click[15] != store_id:
        return _refused(start_response, "422 Unprocessable Content", "click_not_found")
    if report.get("currency") not in (None, click[16]):
        return _refused(start_response, "422 Unprocessable Content", "currency_mismatch")
    lines = report.get("products", [])
    wanted = {report["event"], *(line["event"] for line in lines)}
    found = db.execute(EVENTS, (click[12], [uuid.UUID(each) for each in wanted])).fetchall()
    events = {str(event[0]): event for event in found}
    if len(events) != len(wanted):
        return _refused(start_response, "422 Unprocessable Content", "event_invalid")
    results, breakdown = [], []
    for index, line in enumerate(lines):
        result, entry = _line_commission(events[line["event"]], line)
        results.append(result)
        breakdown.append({"line": index, **entry})
    commission = sum(results)
    fingerprint = hashlib.sha256(raw).hexdigest()
    conversion_uuid = uuid7()
    order_event = events[report["event"]]
    described = {str(event[0]): {"uuid": str(event[0]), "name": event[2]} for event in found}
    products = [
        {
            "event": described[line["event"]],
            "reference": line["reference"],
            "name": line["name"],
            "quantity": line["quantity"],
            "price": line["price"],
            "vat": line["vat"],
            "commission": result,
        }
        for line, result in zip(lines, results, strict=True)
    ]
    flags = []
    with db.transaction():
        db.execute(LOCK, (click[0],))
        (earlier,) = db.execute(EARLIER, (click[0], now - timedelta(days=1))).fetchone()
        if (now - click[9]).total_seconds() < click[17]:
            flags.append(("too_fast", "Reported too soon after the click."))
        if earlier >= click[18]:
            flags.append(("click_reused", "Too many conversions on this click."))
        (conversion_id,) = db.execute(
            CONVERSION,
            (
                conversion_uuid,
                click[12],
                click[19],
                click[0],
                order_event[1],
                report["orderNumber"],
                report["orderSum"],
                report["vatSum"],
                commission,
                Jsonb(breakdown),
                click[16],
                Jsonb(report.get("vouchers", [])),
                click[11],
                fingerprint,
                now,
                now,
            ),
        ).fetchone()
        db.execute(
            LINES,
            (
                conversion_id,
                list(range(len(lines))),
                [events[line["event"]][1] for line in lines],
                [line["reference"] for line in lines],
                [line["name"] for line in lines],
                [line["quantity"] for line in lines],
                [line["price"] for line in lines],
                [line["vat"] for line in lines],
                results,
            ),
        )
        for code, reason in flags:
            db.execute(FLAG, (conversion_id, code, reason, now))
        document = {
            "uuid": str(conversion_uuid),
            "kind": "transaction",
            "status": "pending",
            "reason": "",
            "order_number": report["orderNumber"],
            "order_sum": report["orderSum"],
            "vat_sum": report["vatSum"],
            "commission": commission,
            "commission_breakdown": breakdown,
            "currency": click[16],
            "vouchers": report.get("vouchers", []),
            "products": products,
            "event": described[report["event"]],
            "source": "api",
            "confirmed": True,
            "auto_approve_at": None,
            "test": click[11],
            "created_at": _time(now),
            "updated_at": _time(now),
            "click": {
                "uuid": str(click[0]),
                "ref": click[1],
                "ref2": click[2],
                "ref3": click[3],
                "deeplink": click[4],
                "ip_address": click[5],
                "browser": click[6],
                "referer": click[7],
                "country": click[8],
                "created_at": _time(click[9]),
            },
            "publisher": {
                "uuid": str(click[20]),
                "name": click[21],
                "created_at": _time(click[22]),
            },
            "advertiser": {"uuid": str(store_uuid), "name": store_name},
            "program": {"uuid": str(click[13]), "name": click[14]},
        }
        (sequence,) = db.execute(SEQUENCE).fetchone()
        snapshot = {**document, "change": sequence, "change_type": "created"}
        changes = {"flags": [[], [code for code, _ in flags]]} if flags else {}
        db.execute(
            CHANGE,
            (
                conversion_id,
                click[19],
                sequence,
                f"store:{store_name}",
                Jsonb(changes),
                Jsonb(snapshot),
                click[11],
                now,
            ),
        )
        db.execute(ENDPOINTS, (click[19],)).fetchall()
    db.execute(
        LOG,
        (
            uuid7(),
            now,
            store_id,
            click[12],
            report["click"],
            report["orderNumber"],
            conversion_id,
            click[11],
            raw.decode(),
        ),
    )
    document["flags"] = [
        {"code": code, "reason": reason, "raised_at": _time(now)} for code, reason in flags
    ]
    location = ("Location", f"/api/v2/transactions/{conversion_uuid}")
    return _answer(start_response, "201 Created", {"data": document}, [location])
