"""Reads of clicks: the tracking link, the click path's cached route, click counts, and the
click table's partitions on PostgreSQL."""

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from urllib.parse import quote
from uuid import UUID

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse

from clicks.models import Click, ClickDay, ClickRollup
from partners.models import Admission, Partner, WebhookEndpoint
from retrack.lib.plain_sql import ModelColumns, cache_relation, fetch_rows, prepared
from retrack.lib.timed_cache import MISSING, TimedCache
from retrack.lib.uuids import created_between
from stores.models import Event, Program, Store

# Per worker process. Unknown links are remembered too (as None), so that a stream of dead
# links costs no queries either; the size bound keeps made-up links from filling memory.
_routes = TimedCache(max_entries=10_000)


class ClickRoute(NamedTuple):
    """What the click path needs to know about a program a partner is admitted to."""

    program_id: int
    partner_id: int
    program_name: str
    status: str
    landing_url: str
    allowed_domains: list[str]
    redirect_page_url: str


def tracking_link(partner: Partner, program: Program, ref: str = "{ref}") -> str:
    """The partner's absolute tracking link for the program; `ref` is left as a placeholder."""
    link = (
        f"{settings.RETRACK_PUBLIC_URL}{reverse('clicks:click')}"
        f"?publisher={partner.uuid}&program={program.uuid}"
    )
    # Braces stay readable so that the default "{ref}" is a placeholder partners replace.
    return f"{link}&ref={quote(ref, safe='{}')}" if ref else link


def click_route(program_uuid: UUID, partner_uuid: UUID) -> ClickRoute | None:
    """The program behind a tracking link if the partner is admitted to it, briefly cached.

    An edit to a program (pausing it, changing its domains) reaches the click path within
    RETRACK_PROGRAM_CACHE_SECONDS, in every worker process.
    """
    key = (program_uuid, partner_uuid)
    cached = _routes.get(key)
    if cached is not MISSING:
        return cached
    admissions = Admission.objects.filter(program__uuid=program_uuid, partner__uuid=partner_uuid)
    rows = list(
        admissions.values_list(
            "program_id",
            "partner_id",
            "program__name",
            "program__status",
            "program__landing_url",
            "program__allowed_domains",
            "program__redirect_page_url",
        )[:1]
    )
    route = ClickRoute(*rows[0]) if rows else None
    _routes.set(key, route, settings.RETRACK_PROGRAM_CACHE_SECONDS)
    return route


def forget_click_routes() -> None:
    """Drop this process's cached routes (tests start from a cold cache)."""
    _routes.clear()


class ReportedClick(NamedTuple):
    """A report's click, its relations loaded, those of the report's events that are its
    program's (by UUID), and whether its partner has an active webhook endpoint (a change
    of the conversion then asks to be numbered at once: `record_change`)."""

    click: Click
    events: dict[UUID, Event]
    partner_has_webhooks: bool


class _ClickLookup:
    """A click with its program, the program's store and its partner, the program's
    events a report names, and whether the partner has an active webhook endpoint, in one
    SELECT.

    What `Click.objects.select_related("program__store", "partner").get(pk=…)`, a read
    of the events and `has_active_webhook_endpoints` answer, as one hand-written
    statement: the store API reads them on every report, and as querysets their building
    and compiling cost several times their execution (bench/RESULTS.md). The events are
    LEFT JOINed, one row per event found; the endpoints' EXISTS is the rows' last column.
    """

    def __init__(self) -> None:
        self.click = ModelColumns(Click, "c")
        self.program = ModelColumns(Program, "p")
        self.store = ModelColumns(Store, "s")
        self.partner = ModelColumns(Partner, "a")
        self.event = ModelColumns(Event, "e")
        self.sql = (
            f"SELECT {self.click.select}, {self.program.select}, {self.store.select}, "
            f"{self.partner.select}, {self.event.select}, "
            f'EXISTS (SELECT 1 FROM "{WebhookEndpoint._meta.db_table}" w '
            'WHERE w."partner_id" = c."partner_id" AND w."active") '
            f"FROM {self.click.table} "
            f'JOIN {self.program.table} ON p."id" = c."program_id" '
            f'JOIN {self.store.table} ON s."id" = p."store_id" '
            f'JOIN {self.partner.table} ON a."id" = c."partner_id" '
            f'LEFT JOIN {self.event.table} ON e."program_id" = p."id" AND e."uuid" IN ({{}}) '
            'WHERE c."uuid" = %s'
        )

    def find(self, click_uuid: UUID, event_uuids: Collection[UUID]) -> ReportedClick | None:
        uuid_field = Event._meta.get_field("uuid")
        # An empty IN () is not SQL; NULL matches no event.
        placeholders = ", ".join(["%s"] * len(event_uuids)) or "NULL"
        params = [prepared(uuid_field, value) for value in event_uuids]
        rows = fetch_rows(
            self.sql.format(placeholders), [*params, prepared(Click._meta.pk, click_uuid)]
        )
        if not rows:
            return None
        row = rows[0]
        click = self.click.build(row)
        offset = len(self.click)
        program = self.program.build(row, offset)
        offset += len(self.program)
        cache_relation(program, "store", self.store.build(row, offset))
        offset += len(self.store)
        cache_relation(click, "program", program)
        cache_relation(click, "partner", self.partner.build(row, offset))
        offset += len(self.partner)
        events = {}
        for each in rows:
            if each[offset] is not None:
                event = self.event.build(each, offset)
                cache_relation(event, "program", program)
                events[event.uuid] = event
        return ReportedClick(click, events, bool(row[-1]))


_CLICKS = _ClickLookup()


def reported_click(click_uuid: UUID, event_uuids: Collection[UUID] = ()) -> ReportedClick | None:
    """The click with its program, store and partner loaded, and those of `event_uuids` that
    are events of its program; None if there is no such click. Read afresh every call."""
    return _CLICKS.find(click_uuid, event_uuids)


# Real clicks: not the test clicks a store developer makes (POST /api/v2/test-clicks, all
# from the integration test partner), which no figure, roll-up or rate ever includes.
REAL = Q(test=False)
# Of the real clicks, those flagged as bots (HEAD requests, crawlers, link previews): shown
# apart, never counted.
BOT = Q(is_bot=True)
# The clicks that count in reports: real, and not bots.
COUNTED = REAL & ~BOT


def counted_clicks(using: str = DEFAULT_DB_ALIAS) -> QuerySet[Click]:
    """The clicks that count in reports: not test clicks, HEAD requests, crawlers or link
    previews."""
    return Click.objects.using(using).filter(COUNTED)


def count_clicks(
    program: Program | None = None,
    partner: Partner | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """How many counted clicks, optionally for one program or partner, in [since, until)."""
    clicks = counted_clicks()
    if program is not None:
        clicks = clicks.filter(program=program)
    if partner is not None:
        clicks = clicks.filter(partner=partner)
    if since is not None:
        clicks = clicks.filter(created_at__gte=since)
    if until is not None:
        clicks = clicks.filter(created_at__lt=until)
    return clicks.count()


def rolled_up_through(using: str = DEFAULT_DB_ALIAS) -> date | None:
    """The last UTC day whose counted clicks are all in `ClickDay`; None before the first run.

    `using`: the database read; the reports pass the one they read the days from, so that
    the day and the rows it covers come from the same server.
    """
    return ClickRollup.objects.using(using).filter(pk=1).values_list("last_day", flat=True).first()


def daily_click_rows(
    first: date, last: date, *, using: str = DEFAULT_DB_ALIAS, **scope
) -> list[dict]:
    """Real clicks per (program, partner, UTC day) of the days `first`-`last`: rows of
    program_id, partner_id, day, clicks (counted) and bot_clicks; test clicks left out.

    Days up to `ClickRollup.last_day` are read from `ClickDay` (at most programs × partners
    × days rows); only the later ones (today, and any day before the roll-up's next run)
    are counted from the clicks, through their UUIDv7 index. `scope` narrows both (e.g.
    program_id=…); `using` is the database read.
    """
    rows: list[dict] = []
    live_from = first
    rolled_through = rolled_up_through(using)
    if rolled_through is not None and rolled_through >= first:
        rows.extend(
            ClickDay.objects.using(using)
            .filter(day__gte=first, day__lte=min(last, rolled_through), **scope)
            .values("program_id", "partner_id", "day", "clicks", "bot_clicks")
            .order_by()
        )
        live_from = rolled_through + timedelta(days=1)
    if live_from <= last:
        since = datetime.combine(live_from, time.min, tzinfo=UTC)
        until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
        rows.extend(
            Click.objects.using(using)
            .filter(created_between(since, until), REAL, **scope)
            .annotate(day=TruncDate("created_at"))
            .values("program_id", "partner_id", "day")
            .annotate(clicks=Count("uuid", filter=~BOT), bot_clicks=Count("uuid", filter=BOT))
            .order_by()
        )
    return rows


# The click table's partitions (PostgreSQL). See clicks.services.partitions.

# "FOR VALUES FROM ('…') TO ('…')", either bound possibly MINVALUE / MAXVALUE.
_RANGE_BOUND = re.compile(
    r"FROM \((?:'([0-9a-f-]{36})'|MINVALUE)\) TO \((?:'([0-9a-f-]{36})'|MAXVALUE)\)"
)
KEPT_SUFFIX = "_kept"


@dataclass(frozen=True)
class ClickPartition:
    """One partition of the click table: the UUIDv7 keys in [since, until)."""

    name: str
    # None: unbounded (MINVALUE, MAXVALUE).
    since: UUID | None
    until: UUID | None

    @property
    def is_kept(self) -> bool:
        """Past retention already: it holds only the clicks a conversion or claim refers to."""
        return self.name.endswith(KEPT_SUFFIX)

    def overlaps(self, since: UUID, until: UUID) -> bool:
        return (self.since is None or self.since < until) and (
            self.until is None or since < self.until
        )


def click_connection() -> BaseDatabaseWrapper:
    """The connection click writes (and partition maintenance) go through: the primary."""
    return connections[router.db_for_write(Click)]


def clicks_are_partitioned() -> bool:
    """Whether the click table is partitioned: on PostgreSQL, once migration 0010 ran."""
    connection = click_connection()
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [Click._meta.db_table]
        )
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def click_partitions() -> list[ClickPartition]:
    """The click table's partitions, oldest range first; none when it is not partitioned."""
    if not clicks_are_partitioned():
        return []
    with click_connection().cursor() as cursor:
        cursor.execute(
            "SELECT child.relname, pg_get_expr(child.relpartbound, child.oid) FROM pg_inherits"
            " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
            " WHERE pg_inherits.inhparent = to_regclass(%s)",
            [Click._meta.db_table],
        )
        rows = cursor.fetchall()
    partitions = []
    for name, bound in rows:
        match = _RANGE_BOUND.search(bound)
        if match is None:
            # A DEFAULT partition an operator added: it has no range to create or drop by.
            continue
        since, until = (UUID(text) if text else None for text in match.groups())
        partitions.append(ClickPartition(name=name, since=since, until=until))
    return sorted(partitions, key=lambda partition: partition.since.int if partition.since else -1)
