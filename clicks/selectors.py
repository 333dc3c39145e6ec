"""Reads of clicks: the tracking link, the click path's cached route, and click counts."""

from datetime import date, datetime
from typing import NamedTuple
from urllib.parse import quote
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from clicks.models import Click, ClickRollup
from partners.models import Admission, Partner
from retrack.lib.timed_cache import MISSING, TimedCache
from stores.models import Program

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


def rolled_up_through() -> date | None:
    """The last UTC day whose counted clicks are all in `ClickDay`; None before the first run."""
    return ClickRollup.objects.filter(pk=1).values_list("last_day", flat=True).first()
