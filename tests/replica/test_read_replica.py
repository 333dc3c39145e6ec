"""A real streaming replica: what reads from it, what stays on the primary, and the feed.

Retrack runs under gunicorn with the test primary as DATABASE_URL and its standby as
DATABASE_REPLICA_URL (tests/replica/). Pausing the standby's replay makes the replica lag
as far as a test wants: what a page then shows tells which server answered it.
"""

import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.operations.helpers import free_port, run_python
from tests.replica.clusters import PRIMARY, STANDBY, replay_paused, wait_for_replay
from tests.replica.server import Server, replica_server
from tests.shop import worked_example

pytestmark = pytest.mark.postgres

FEED = "/api/v2/partner/conversions"
OVERVIEW = "/admin/conversions/conversion/overview/"
_PROGRAM_TOTAL = re.compile(r'<tr class="program-total">(.*?)</tr>', re.S)
_CELL = re.compile(r"<td>(\d+)</td>")
_DASHBOARD_CONVERSIONS = re.compile(
    r'<div class="metric-label">Conversions</div>\s*<div class="metric-value">(\d+)</div>'
)


def report(server: Server, shop: dict, order_number: str) -> dict:
    """The worked example as the store's server reports it, with this order number."""
    payload = worked_example(shop["click"], shop["shoes"], shop["socks"], orderNumber=order_number)
    status, body = server.json(
        "POST", "/api/v2/transactions", token=shop["store_token"], body=payload
    )
    assert status == 201, body
    return body["data"]


def feed_page(server: Server, shop: dict, cursor: str = "", limit: int = 100) -> dict:
    status, body = server.json(
        "GET", FEED, token=shop["partner_token"], query={"cursor": cursor, "limit": limit}
    )
    assert status == 200, body
    return body


def whole_feed(server: Server, shop: dict) -> list[str]:
    """The order numbers of every item of the partner's feed, from the start."""
    page = feed_page(server, shop)
    return [item["order_number"] for item in page["data"]]


def stats_conversions(server: Server, shop: dict) -> int:
    today = datetime.now(UTC).date().isoformat()
    status, body = server.json(
        "GET", "/api/v2/partner/stats", token=shop["partner_token"], query={"to": today}
    )
    assert status == 200, body
    return sum(row["conversions"] for row in body["data"])


def overview_conversions(server: Server, shop: dict) -> int:
    """The program's conversions, every kind and status, on the back office's overview."""
    status, body = server.call(
        "GET", OVERVIEW, session=shop["session"], query={"program": shop["program"]}
    )
    assert status == 200, body[:500]
    (row,) = _PROGRAM_TOTAL.findall(body.decode())
    clicks, *counts = (int(cell) for cell in _CELL.findall(row)[:7])
    return sum(counts)


def dashboard_conversions(server: Server, shop: dict) -> int:
    status, body = server.call(
        "GET", "/admin/", session=shop["session"], query={"program": shop["program"], "days": 7}
    )
    assert status == 200, body[:500]
    (number,) = _DASHBOARD_CONVERSIONS.findall(body.decode())
    return int(number)


def settle(server: Server, shop: dict) -> None:
    """Until the standby holds everything written so far, feed numbers included: a feed call
    first, since the feed may number committed changes on the primary as it is read."""
    feed_page(server, shop)
    wait_for_replay()


def figures(server: Server, shop: dict) -> dict:
    """What each read the replica serves shows of the shop's conversions."""
    return {
        "feed": whole_feed(server, shop),
        "stats": stats_conversions(server, shop),
        "overview": overview_conversions(server, shop),
        "dashboard": dashboard_conversions(server, shop),
    }


def test_the_feed_stats_overview_and_dashboard_lag_with_the_replica_while_writes_go_on(
    server, replica_shop
):
    shop = replica_shop
    report(server, shop, "R-1")
    settle(server, shop)
    cursor = feed_page(server, shop)["next_cursor"]
    assert figures(server, shop) == {"feed": ["R-1"], "stats": 1, "overview": 1, "dashboard": 1}

    with replay_paused():
        # A write while the standby replays nothing: it went to the primary (a standby
        # refuses every write), and the store reads it straight back from there.
        second = report(server, shop, "R-2")
        status, looked_up = server.json(
            "GET", f"/api/v2/transactions/{second['uuid']}", token=shop["store_token"]
        )
        # A partner a webhook has just told of it finds it too: one conversion is read
        # from the primary.
        detail_status, detail = server.json(
            "GET", f"{FEED}/{second['uuid']}", token=shop["partner_token"]
        )
        lagging = figures(server, shop)
        waiting = feed_page(server, shop, cursor)

    assert (status, looked_up["data"]["order_number"]) == (200, "R-2")
    assert (detail_status, detail["data"]["order_number"]) == (200, "R-2")
    assert lagging == {"feed": ["R-1"], "stats": 1, "overview": 1, "dashboard": 1}
    # The poller keeps its place: the same cursor, nothing skipped.
    assert waiting == {"data": [], "next_cursor": cursor, "has_more": False}

    settle(server, shop)
    caught_up = feed_page(server, shop, cursor)
    assert figures(server, shop) == {
        "feed": ["R-1", "R-2"],
        "stats": 2,
        "overview": 2,
        "dashboard": 2,
    }
    assert [item["order_number"] for item in caught_up["data"]] == ["R-2"]
    assert caught_up["has_more"] is False


@pytest.fixture
def unreachable_replica(replica_database, tmp_path) -> Iterator[tuple[Server, int, Path]]:
    """Retrack whose DATABASE_REPLICA_URL names a port on 127.0.0.1 that nobody listens on:
    the server, that port, and its log."""
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    replica_url = f"postgres://postgres@127.0.0.1:{port}/{replica_database}"
    with replica_server(replica_database, log_path, replica_url=replica_url) as running:
        yield running, port, log_path


def test_it_serves_the_feed_stats_overview_and_dashboard_from_the_primary_if_no_replica_answers(
    unreachable_replica, replica_shop
):
    server, port, log_path = unreachable_replica
    shop = replica_shop
    report(server, shop, "R-1")

    first = figures(server, shop)
    report(server, shop, "R-2")
    second = figures(server, shop)
    status, readiness = server.json("GET", "/readyz")

    # Up to date at once: nothing lags behind the primary.
    assert first == {"feed": ["R-1"], "stats": 1, "overview": 1, "dashboard": 1}
    assert second == {"feed": ["R-1", "R-2"], "stats": 2, "overview": 2, "dashboard": 2}
    assert (status, readiness["status"], readiness["replica"]) == (200, "ready", {"state": "down"})
    # One warning for the whole outage, naming what could not be reached.
    warnings = [
        line
        for line in log_path.read_text().splitlines()
        if "The read replica cannot be reached" in line
    ]
    assert len(warnings) == 1
    assert f"port {port} failed: Connection refused" in warnings[0]


WRITERS = 4
ORDERS_PER_WRITER = 6


def _write_orders(server: Server, shop: dict, writer: int, errors: list) -> None:
    """Report the writer's orders; reject every other one (a second change of it)."""
    try:
        for number in range(ORDERS_PER_WRITER):
            created = report(server, shop, f"W{writer}-{number}")
            if number % 2:
                status, body = server.json(
                    "PATCH",
                    f"/api/v2/transactions/{created['uuid']}",
                    token=shop["store_token"],
                    body={"status": "rejected", "reason": "Order cancelled"},
                )
                assert status == 200, body
    except Exception as error:  # noqa: BLE001 - handed to the test's thread to fail it
        errors.append(error)


def _follow(server: Server, shop: dict, state: dict, stop: threading.Event) -> None:
    """A partner's poller: follow next_cursor until told to stop."""
    try:
        while not stop.is_set():
            page = feed_page(server, shop, state["cursor"], limit=5)
            state["items"].extend(page["data"])
            state["cursor"] = page["next_cursor"]
    except Exception as error:  # noqa: BLE001 - handed to the test's thread to fail it
        state["errors"].append(error)


def test_a_poller_on_the_replica_sees_every_change_once_and_in_order_while_writes_commit(
    server, replica_shop
):
    shop = replica_shop
    errors: list = []
    state = {"cursor": "", "items": [], "errors": []}
    stop = threading.Event()
    poller = threading.Thread(target=_follow, args=(server, shop, state, stop))
    writers = [
        threading.Thread(target=_write_orders, args=(server, shop, writer, errors))
        for writer in range(WRITERS)
    ]
    poller.start()
    for writer in writers:
        writer.start()
    # The replica falls behind while the writers go on, then catches up.
    with replay_paused():
        writers[0].join(timeout=1)
    for writer in writers:
        writer.join()
    stop.set()
    poller.join()
    expected = WRITERS * ORDERS_PER_WRITER * 3 // 2
    deadline = time.monotonic() + 30
    while len(state["items"]) < expected and time.monotonic() < deadline:
        settle(server, shop)
        page = feed_page(server, shop, state["cursor"], limit=5)
        state["items"].extend(page["data"])
        state["cursor"] = page["next_cursor"]
    settle(server, shop)
    after_the_end = feed_page(server, shop, state["cursor"])

    assert errors == [] and state["errors"] == []
    assert after_the_end["data"] == []
    changes = [item["change"] for item in state["items"]]
    assert changes == sorted(set(changes)), "every change once, in order"
    by_order = defaultdict(list)
    for item in state["items"]:
        by_order[item["order_number"]].append(item["change_type"])
    assert by_order == {
        f"W{writer}-{number}": ["created", "rejected"] if number % 2 else ["created"]
        for writer in range(WRITERS)
        for number in range(ORDERS_PER_WRITER)
    }


_WHICH_SERVER = """
import django
django.setup()
from django.db import connections, transaction
from retrack.lib.replica import read_alias

def server():
    alias = read_alias()
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return alias, "standby" if cursor.fetchone()[0] else "primary"

outside = server()
with transaction.atomic():
    inside = server()
print(*outside, *inside)
"""


def test_reads_that_may_lag_go_to_the_standby_but_never_inside_a_transaction_on_the_primary(
    replica_database,
):
    result = run_python(
        _WHICH_SERVER,
        DATABASE_URL=PRIMARY.url(replica_database),
        DATABASE_REPLICA_URL=STANDBY.url(replica_database),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["replica", "standby", "default", "primary"]
