"""Retrack behind PgBouncer in transaction mode (`DATABASE_POOLER=transaction`).

gunicorn (2 workers × 4 threads) and a management command reach the test database only
through a private PgBouncer whose pool has 2 server connections, so consecutive
transactions of one request land on different server connections: a prepared statement,
a `WITH HOLD` cursor or any other session state would be missing there. The whole
journey runs through it with concurrent requests: clicks, store API creations, replays,
amendments and rejections, the partner feed paged to the end, the approval job, the feed
again, and the back office's CSV export, which reads with `QuerySet.iterator()`.
"""

import csv
import io
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from clicks.models import Click
from conversions.models import Conversion, ConversionChange, ConversionStatus
from partners.services import issue_partner_token
from stores.services import issue_store_token
from tests.factories import (
    AdmissionFactory,
    EventFactory,
    PartnerFactory,
    ProgramFactory,
    StoreFactory,
)
from tests.operations.pgbouncer import gunicorn_through, manage_through, request
from tests.shop import worked_example

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORDERS = 40
AMENDED = range(0, 10)
REJECTED = range(10, 15)
THREADS = 8
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
EXPORT_URL = "/admin/conversions/conversion/export/"


def in_parallel(work, items) -> list:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(work, items))


def read_feed(port: int, token: str, cursor: str = "") -> tuple[list[dict], str, int]:
    """The partner's feed from `cursor` to its end, 7 a page: items, next cursor, pages."""
    items, pages = [], 0
    while True:
        query = urlencode({"limit": 7, **({"cursor": cursor} if cursor else {})})
        answer = request(
            port, "GET", f"/api/v2/partner/conversions?{query}", Authorization=f"Bearer {token}"
        )
        assert answer.status == 200, answer.body
        page = answer.json()
        items += page["data"]
        cursor = page["next_cursor"]
        pages += 1
        if not page["has_more"]:
            return items, cursor, pages


def test_the_whole_journey_runs_behind_pgbouncer_in_transaction_mode(pgbouncer, tmp_path):
    store = StoreFactory(name="Awesome Store")
    program = ProgramFactory(
        store=store, name="Awesome Store SE", validation_days=0, min_seconds_to_conversion=0
    )
    shoes = EventFactory(program=program, name="Shoes", percent=Decimal("8"))
    socks = EventFactory(program=program, name="Socks", percent=Decimal("12.5"))
    partner = PartnerFactory(name="Refunder SE")
    AdmissionFactory(partner=partner, program=program)
    _, store_token = issue_store_token(store)
    _, partner_token = issue_partner_token(partner, name="feed poller")
    operator = get_user_model().objects.create_superuser("olivia", "olivia@example.com", "x")
    browser = Client()
    browser.force_login(operator)
    session = browser.cookies["sessionid"].value
    store_auth = {"Authorization": f"Bearer {store_token}"}

    def click(n: int) -> str:
        query = urlencode({"publisher": partner.uuid, "program": program.uuid, "ref": f"r-{n}"})
        answer = request(port, "GET", f"/track/v2/click?{query}", **{"User-Agent": BROWSER})
        assert answer.status == 302, answer.body
        return parse_qs(urlsplit(answer.headers["Location"]).query)["click"][0]

    def report(n: int):
        body = worked_example(clicks[n], shoes.uuid, socks.uuid, orderNumber=f"pgb-{n}")
        return request(port, "POST", "/api/v2/transactions", body, **store_auth)

    def amend(n: int):
        lines = worked_example(clicks[n], shoes.uuid, socks.uuid)["products"]
        lines[1]["quantity"] = 1  # two of the three socks went back
        return request(
            port, "PATCH", f"/api/v2/transactions/{uuids[n]}", {"products": lines}, **store_auth
        )

    def reject(n: int):
        body = {"status": "rejected", "reason": "Order cancelled by the customer"}
        return request(port, "PATCH", f"/api/v2/transactions/{uuids[n]}", body, **store_auth)

    def export(_):
        return request(port, "GET", EXPORT_URL, Cookie=f"sessionid={session}")

    with gunicorn_through(pgbouncer, tmp_path) as port:
        clicks = in_parallel(click, range(ORDERS))
        created = in_parallel(report, range(ORDERS))
        uuids = [answer.json()["data"]["uuid"] for answer in created]
        # The same reports again, racing each other: each answers the stored record.
        replayed = in_parallel(report, list(range(8)) * 2)
        changed = in_parallel(amend, AMENDED) + in_parallel(reject, REJECTED)
        first_read, cursor, pages = read_feed(port, partner_token)

        approval = manage_through(pgbouncer, tmp_path, "approve_due_conversions")

        second_read, _, _ = read_feed(port, partner_token, cursor)
        # Three exports at once, while the pool's two server connections are shared.
        exports = in_parallel(export, range(3))

    # Every click stored once, with its ref.
    stored = dict(Click.objects.values_list("uuid", "ref"))
    assert {str(uuid): ref for uuid, ref in stored.items()} == {
        clicks[n]: f"r-{n}" for n in range(ORDERS)
    }
    assert [answer.status for answer in created] == [201] * ORDERS
    assert {answer.json()["data"]["commission"] for answer in created} == {118}
    assert [answer.status for answer in replayed] == [200] * 16
    assert [answer.json()["data"]["uuid"] for answer in replayed] == uuids[:8] * 2
    assert [answer.status for answer in changed] == [200] * 15
    assert [answer.json()["data"]["commission"] for answer in changed[:10]] == [93] * 10

    # The feed: every change once, in increasing order, whatever server connection wrote it.
    assert pages == 8  # 55 changes, 7 a page
    sequences = [item["change"] for item in first_read + second_read]
    assert sequences == sorted(set(sequences))
    assert Counter(item["change_type"] for item in first_read) == {
        "created": 40,
        "amended": 10,
        "rejected": 5,
    }
    assert Counter((item["uuid"], item["change_type"]) for item in first_read) == Counter(
        {(uuid, "created"): 1 for uuid in uuids}
        | {(uuids[n], "amended"): 1 for n in AMENDED}
        | {(uuids[n], "rejected"): 1 for n in REJECTED}
    )
    assert approval.strip() == "Approved 35 conversions."
    assert sorted(item["uuid"] for item in second_read) == sorted(
        uuids[n] for n in range(ORDERS) if n not in REJECTED
    )
    assert {(item["change_type"], item["status"]) for item in second_read} == {
        ("approved", "approved")
    }
    assert ConversionChange.objects.count() == 40 + 15 + 35

    # The export, read with QuerySet.iterator(): every conversion once, as stored.
    assert [answer.status for answer in exports] == [200] * 3
    for answer in exports:
        rows = list(csv.reader(io.StringIO(answer.body.decode())))[1:]
        assert sorted(row[0] for row in rows) == sorted(uuids)
        assert Counter(row[2] for row in rows) == {"approved": 35, "rejected": 5}
    assert Counter(Conversion.objects.values_list("status", flat=True)) == {
        ConversionStatus.APPROVED: 35,
        ConversionStatus.REJECTED: 5,
    }
