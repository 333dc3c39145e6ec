"""A read replica that cannot be reached: the reads that may lag go to the primary.

Retrack here has a "replica" alias nothing answers on, as DATABASE_REPLICA_URL at a closed
port gives it. On PostgreSQL it is exactly that: 127.0.0.1 at a port nobody listens on.
SQLite has no replica (the setting is refused), so there it is an SQLite file in a folder
that does not exist, whose connect fails the same way (OperationalError); the fallback
itself does not depend on the backend, so it is checked on both.
"""

import copy
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.utils import load_backend
from django.test import Client
from prometheus_client import REGISTRY

from partners.api.cursors import encode_feed_cursor
from retrack.lib.replica import REPLICA_ALIAS, forget_replica_outages, read_alias
from retrack.metrics import flush
from stores.roles import ensure_roles
from tests.clicks.helpers import uuid7_at
from tests.database import terminate_backend
from tests.factories import AdmissionFactory, ClickFactory, ConversionFactory, ProgramFactory
from tests.operations.helpers import call, free_port, json_body
from tests.partners.helpers import client_for, record

pytestmark = [
    # Committing: inside a test's transaction every read stays on the primary anyway.
    pytest.mark.django_db(transaction=True),
    # The replica's alias is added to DATABASES for the test (see `replica`).
    pytest.mark.filterwarnings("ignore:Overriding setting DATABASES:UserWarning"),
]

DAY = date(2025, 3, 10)
NOON = datetime(2025, 3, 10, 12, tzinfo=UTC)
OVERVIEW = "/admin/conversions/conversion/overview/"
LOGGER = "retrack.lib.replica"
DOWN = (
    "The read replica cannot be reached (%s: %s); the partner feed, partner stats, "
    "overview and dashboard read from the primary, and the replica is tried again "
    "every %s s"
)
UP = "The read replica answers again after %.0f s; the reads that may lag go to it again"


@pytest.fixture
def replica(transactional_db, tmp_path, settings) -> Iterator[dict]:
    """The settings of a "replica" alias that cannot be reached, for one test; a test makes
    it reachable by pointing them at the primary's database (`reachable`)."""
    settings_dict = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    if connection.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    else:
        settings_dict["NAME"] = str(tmp_path / "no-such-folder" / "replica.sqlite3")
    # In DATABASES, where read_alias() looks, but not in the list of aliases the connection
    # handler was configured with: Django's test case refuses to connect to a listed alias
    # the test did not declare, and one made after the test databases were set up cannot be
    # declared. The connection is made as the handler makes it, for this thread.
    settings.DATABASES = {**settings.DATABASES, REPLICA_ALIAS: settings_dict}
    connect_this_thread(settings_dict)
    forget_replica_outages()
    yield settings_dict
    disconnect_this_thread()
    forget_replica_outages()


def connect_this_thread(replica: dict) -> None:
    """This thread's connection to the replica, as the connection handler makes one."""
    connections[REPLICA_ALIAS] = load_backend(replica["ENGINE"]).DatabaseWrapper(
        replica, REPLICA_ALIAS
    )


def disconnect_this_thread() -> None:
    connections[REPLICA_ALIAS].close()
    del connections[REPLICA_ALIAS]


def reachable(replica: dict) -> None:
    """The replica answers again: from now on it connects to the primary's database."""
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    replica.update(NAME=primary["NAME"], HOST=primary["HOST"], PORT=primary["PORT"])


def connect_failures() -> float:
    flush()
    return REGISTRY.get_sample_value("retrack_replica_connect_failures_total")


def replica_log(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER]


@pytest.fixture
def program():
    """Shoes SE, its partner, three clicks on DAY (one a bot) and two conversions on the
    first, one pending and one approved."""
    program = ProgramFactory(name="Shoes SE", currency="SEK")
    partner = AdmissionFactory(program=program).partner
    click, *_ = [
        ClickFactory(
            program=program, partner=partner, created_at=NOON, uuid=uuid7_at(NOON), is_bot=is_bot
        )
        for is_bot in (False, False, True)
    ]
    for status, commission in [("pending", 800), ("approved", 1600)]:
        ConversionFactory(click=click, status=status, commission=commission, created_at=NOON)
    return program


def staff_client() -> Client:
    """A logged-in member of the Support group: it sees the overview and the dashboard."""
    _, support = ensure_roles()
    user = get_user_model().objects.create_user(username="sam", password="x", is_staff=True)
    user.groups.add(support)
    client = Client()
    client.force_login(user)
    return client


def test_it_serves_the_partner_feed_from_the_primary_while_the_replica_cannot_be_reached(
    replica, program
):
    partner = program.admissions.get().partner
    first, second = (record(conversion) for conversion in program.conversions.order_by("pk"))

    response = client_for(partner).get("/api/v2/partner/conversions")

    assert response.status_code == 200
    assert response.json() == {
        "data": [first.snapshot, second.snapshot],
        "next_cursor": encode_feed_cursor(partner, second.sequence),
        "has_more": False,
    }


def test_it_serves_the_partner_stats_from_the_primary_while_the_replica_cannot_be_reached(
    replica, program
):
    partner = program.admissions.get().partner

    response = client_for(partner).get(
        "/api/v2/partner/stats", {"from": DAY.isoformat(), "to": DAY.isoformat()}
    )

    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {
                "date": "2025-03-10",
                "program": {"uuid": str(program.uuid), "name": "Shoes SE"},
                "currency": "SEK",
                "clicks": 2,
                "conversions": 2,
                "commission": {"pending": 800, "approved": 1600, "rejected": 0},
                "conversion_rate": 100.0,
            }
        ]
    }


def test_it_serves_the_overview_and_the_dashboard_from_the_primary_while_the_replica_is_down(
    replica, program
):
    client = staff_client()
    period = {"start": DAY.isoformat(), "end": DAY.isoformat(), "program": program.pk}

    overview = client.get(OVERVIEW, period)
    dashboard = client.get("/admin/", {"days": "", **period})

    assert (overview.status_code, dashboard.status_code) == (200, 200)
    (total,) = [report.total for report in overview.context["report"].programs]
    assert (total.clicks, total.conversions, total.commission) == (2, 2, 2400)
    now = dashboard.context["dashboard"].total.current
    assert (now.clicks, now.bot_clicks, now.conversions) == (2, 1, 2)
    assert now.commission_in("approved") == {"SEK": 1600}


def test_it_warns_once_and_counts_every_failed_connect_while_the_replica_stays_down(
    replica, settings, caplog
):
    settings.RETRACK_REPLICA_RETRY_SECONDS = 0
    before = connect_failures()

    with caplog.at_level(logging.INFO, logger=LOGGER):
        aliases = [read_alias() for _ in range(3)]

    assert aliases == ["default", "default", "default"]
    assert connect_failures() - before == 3
    assert [(entry.levelno, entry.msg) for entry in replica_log(caplog)] == [
        (logging.WARNING, DOWN)
    ]


def test_it_holds_the_replica_down_for_the_retry_time_then_tries_it_again(
    replica, settings, caplog
):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        went_down = read_alias()
        failures = connect_failures()
        reachable(replica)
        held_down = read_alias()
        settings.RETRACK_REPLICA_RETRY_SECONDS = 0
        tried_again = read_alias()

    assert (went_down, held_down, tried_again) == ("default", "default", "replica")
    # Held down, it was not even tried: no second failure.
    assert connect_failures() == failures
    down, up = replica_log(caplog)
    assert (down.levelno, down.msg, down.args[0], down.args[2]) == (
        logging.WARNING,
        DOWN,
        "OperationalError",
        30,
    )
    assert (up.levelno, up.msg) == (logging.INFO, UP)


def test_it_keeps_a_read_inside_a_transaction_on_the_primary_without_trying_the_replica(replica):
    before = connect_failures()

    with transaction.atomic():
        alias = read_alias()

    assert alias == "default"
    assert connect_failures() == before
    assert connections[REPLICA_ALIAS].connection is None


def test_it_tells_readyz_the_replica_is_down_and_stays_ready(replica, settings):
    settings.RETRACK_REPLICA_RETRY_SECONDS = 0

    down_status, _, down = call("/readyz")
    reachable(replica)
    up_status, _, up = call("/readyz")

    assert (down_status, json_body(down)["status"], json_body(down)["replica"]) == (
        200,
        "ready",
        {"state": "down"},
    )
    assert (up_status, json_body(up)["status"], json_body(up)["replica"]) == (
        200,
        "ready",
        {"state": "up"},
    )


def _read_alias_in_another_thread(replica: dict) -> str:
    aliases = []

    def read() -> None:
        connect_this_thread(replica)
        aliases.append(read_alias())
        disconnect_this_thread()

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    return aliases[0]


# PostgreSQL only: the outage ends this thread's connection with pg_terminate_backend.
@pytest.mark.postgres
def test_it_opens_a_new_connection_after_an_outage_rather_than_use_one_from_before_it(
    replica, settings
):
    # This thread reads from the replica; then the replica goes down (its connection ends)
    # and another thread finds out, connecting.
    closed_port = replica["PORT"]
    reachable(replica)
    before = read_alias()
    old_backend = connections[REPLICA_ALIAS].connection.info.backend_pid
    terminate_backend(old_backend)
    replica["PORT"] = closed_port
    other_thread = _read_alias_in_another_thread(replica)
    # It answers again: this thread's next read opens a new connection rather than
    # failing on the one that ended with the outage.
    reachable(replica)
    settings.RETRACK_REPLICA_RETRY_SECONDS = 0
    after = read_alias()
    with connections[REPLICA_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (new_backend,) = cursor.fetchone()

    assert (before, other_thread, after) == ("replica", "default", "replica")
    assert new_backend != old_backend
