"""Reads of clicks: the tracking link, the click path's cached route, and click counts."""

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from urllib.parse import quote
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse

from clicks.models import Click, ClickDay, ClickDayRollup
from partners.models import Admission, Partner
from retrack.lib.timed_cache import MISSING, TimedCache
from retrack.lib.uuids import uuid7_floor
from stores.models import Program

# Per worker process. Unknown links are remembered too (as None), so that a stream of dead
# links costs no queries either; the size bound keeps made-up links from filling memory.
_routes = TimedCache(max_entries=10_000)
# A click's UUIDv7 is made in the same instant as its created_at; the margin only widens the
# primary-key range, the exact bounds are those on created_at.
UUID_MARGIN = timedelta(hours=1)
# A UTC day is closed (no click can still be stamped with it) this long after it ends.
DAY_CLOSED_AFTER = timedelta(minutes=10)


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


def counted_clicks() -> QuerySet[Click]:
    """The clicks that count in reports: not HEAD requests, crawlers or link previews."""
    return Click.objects.filter(is_bot=False)


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


def _uuid7_floor(moment: datetime) -> UUID:
    return uuid7_floor(int(moment.timestamp() * 1000))


def click_key_range(since: datetime, until: datetime) -> Q:
    """The range of click primary keys that can hold clicks made in [since, until).

    Add it to a filter on created_at: clicks' UUIDv7 keys follow insertion order, so the
    range confines a scan to the period's part of the table however big the table grows.
    """
    return Q(
        uuid__gte=_uuid7_floor(since - UUID_MARGIN), uuid__lt=_uuid7_floor(until + UUID_MARGIN)
    )


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants [since, until) covering the days `first` to `last`, both included."""
    return (
        datetime.combine(first, time.min, tzinfo=UTC),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC),
    )


def is_closed_day(day: date, now: datetime) -> bool:
    return day_bounds(day, day)[1] + DAY_CLOSED_AFTER <= now


def daily_clicks_by(first: date, last: date, **scope) -> QuerySet:
    """Clicks per (program, partner, UTC day, is_bot) of the days first-last, counted from
    the clicks themselves: rows of program_id, partner_id, day, is_bot, number."""
    since, until = day_bounds(first, last)
    return (
        Click.objects.filter(created_at__gte=since, created_at__lt=until, **scope)
        .filter(click_key_range(since, until))
        .annotate(day=TruncDate("created_at"))
        .values("program_id", "partner_id", "day", "is_bot")
        .annotate(number=Count("*"))
        .order_by()
    )


def click_day_counts(first: date, last: date, **scope) -> list[dict]:
    """The rows of `daily_clicks_by` for the days first-last: from ClickDay for the days
    rolled up, counted from the clicks for the others (today, or days not rolled up yet)."""
    rolled = set(
        ClickDayRollup.objects.filter(day__gte=first, day__lte=last).values_list("day", flat=True)
    )
    rows = list(
        ClickDay.objects.filter(day__in=rolled, **scope).values(
            "program_id", "partner_id", "day", "is_bot", "number"
        )
    )
    day, runs = first, []
    while day <= last:
        if day not in rolled:
            if runs and runs[-1][1] == day - timedelta(days=1):
                runs[-1][1] = day
            else:
                runs.append([day, day])
        day += timedelta(days=1)
    for run_first, run_last in runs:
        rows.extend(daily_clicks_by(run_first, run_last, **scope))
    return rows
