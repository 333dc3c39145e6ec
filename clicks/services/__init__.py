"""Writes to clicks: recording a click (the hot path) and the retention jobs.

- `partitions`: the click table's monthly partitions on PostgreSQL (made ahead, dropped
  past retention).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from django.core.exceptions import DisallowedRedirect
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.utils import timezone
from django.utils.encoding import iri_to_uri

# A cycle, deliberately: the fast path (the WSGI door) calls record_click, which stores
# through the fast path's INSERT. Both import each other as modules, so either may be
# imported first.
from clicks import fast_path
from clicks.models import (
    REF_MAX_LENGTH,
    URL_MAX_LENGTH,
    USER_AGENT_MAX_LENGTH,
    Click,
    ClickDay,
    ClickRollup,
)
from clicks.selectors import BOT, REAL, ClickRoute, click_route, rolled_up_through
from clicks.services.partitions import (
    drop_click_partitions_before,
    is_missing_partition,
    kept_clicks_until,
    make_partition_for,
)
from conversions.models import Claim, Conversion
from partners.services import integration_test_partner
from retrack.lib.database import once_more_on_a_fresh_connection
from retrack.lib.urls import allowed_http_url, with_query_parameters
from retrack.lib.uuids import created_between, parse_uuid, uuid7
from retrack.lib.validation import BIDI_CONTROLS
from retrack.lib.visitors import coarse_user_agent, mask_ip
from stores.models import Program, ProgramStatus

REF_PARAMETERS = ("ref", "ref2", "ref3")
# Control characters, the replacement character that stands for bytes that were not UTF-8,
# and the bidirectional overrides and isolates, which would make the back office show a
# ref other than the one stored: a ref is stored exactly as the partner sent it, or not
# at all.
_REF_FORBIDDEN = re.compile("[\x00-\x1f\x7f\ufffd" + "".join(sorted(BIDI_CONTROLS)) + "]")


class ClickRefused(Exception):
    """A tracking link that stores no click. status: 400 (bad ref), 404 (unknown), 410 (closed)."""

    def __init__(
        self, status: int, message: str, *, program_name: str = "", landing_url: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.program_name = program_name
        self.landing_url = landing_url


@dataclass(frozen=True)
class Visitor:
    """What the request says about the shopper, already read and cleaned by the view."""

    ip_address: str | None = None
    browser: str = ""
    referer: str = ""
    country: str = ""
    is_bot: bool = False


@dataclass(frozen=True)
class ClickRedirect:
    """A stored click and where to send its shopper."""

    click_uuid: UUID
    location: str


def record_click(parameters: Mapping[str, Sequence[str]], visitor: Visitor) -> ClickRedirect:
    """Store the click of a tracking link and return where to redirect the shopper.

    `parameters` are the link's query parameters, each with every value it was given.
    Refusals raise ClickRefused before anything is written. The redirect is built and
    checked before the click's single INSERT, so nothing can fail after it; outside a
    transaction (the click view runs in autocommit) the INSERT has committed when this
    returns. A database error propagates: the caller must not redirect then, so a
    redirected shopper always has a stored click.

    A connection that fails (a persistent connection that died with a database restart
    or an idle timeout) gets one more try of the whole click, lookup included, on a fresh
    connection, with the same UUID: a shopper is not turned away for it, and an INSERT
    that had committed but whose answer was lost is not stored twice.
    """
    click_uuid = uuid7()
    return once_more_on_a_fresh_connection(
        _record_click, parameters, visitor, click_uuid, writing=Click
    )


def _record_click(
    parameters: Mapping[str, Sequence[str]], visitor: Visitor, click_uuid: UUID
) -> ClickRedirect:
    program_uuid = _uuid_parameter(parameters, "program")
    partner_uuid = _uuid_parameter(parameters, "publisher")
    if program_uuid is None or partner_uuid is None:
        raise ClickRefused(404, "This tracking link is incomplete or mistyped.")
    route = click_route(program_uuid, partner_uuid)
    if route is None:
        raise ClickRefused(404, "This tracking link does not lead to a store.")
    if route.status != ProgramStatus.ACTIVE:
        raise ClickRefused(
            410,
            "This store's offer has ended.",
            program_name=route.program_name,
            landing_url=route.landing_url,
        )
    refs = {name: _ref_parameter(parameters, name) for name in REF_PARAMETERS}
    target = _target_page(parameters, route)
    location = _location(route, click_uuid, target)
    values = {
        "uuid": click_uuid,
        "partner_id": route.partner_id,
        "program_id": route.program_id,
        **refs,
        "deeplink": target,
        "ip_address": visitor.ip_address,
        "browser": visitor.browser[:USER_AGENT_MAX_LENGTH],
        "referer": visitor.referer[:URL_MAX_LENGTH],
        "country": visitor.country,
        "created_at": timezone.now(),
        "is_bot": visitor.is_bot,
        "is_anonymized": False,
    }
    try:
        fast_path.insert_click(values)
    except IntegrityError as error:
        if is_missing_partition(error) and make_partition_for(click_uuid):
            fast_path.insert_click(values)
        # Tried again with the same UUID: the first INSERT had committed and only its
        # answer was lost.
        elif not Click.objects.filter(pk=click_uuid).exists():
            raise
    return ClickRedirect(click_uuid=click_uuid, location=location)


def make_test_click(program: Program, deeplink: str | None = None) -> ClickRedirect:
    """A test click on the program (contract section 8) and where its tracking link would go.

    It comes from the integration test partner, so no real partner ever sees it, and its
    conversions are tests. The URL is built exactly as a tracking link's redirect is,
    deeplink check included, whatever the program's status (a store tests before launch).
    """
    partner = integration_test_partner()
    route = ClickRoute(
        program_id=program.pk,
        partner_id=partner.pk,
        program_name=program.name,
        status=program.status,
        landing_url=program.landing_url,
        allowed_domains=program.allowed_domains,
        redirect_page_url=program.redirect_page_url,
    )
    click_uuid = uuid7()
    target = _target_page({"deeplink": [deeplink]} if deeplink else {}, route)
    location = _location(route, click_uuid, target)
    fast_path.insert_click(
        {
            "uuid": click_uuid,
            "partner_id": partner.pk,
            "program_id": program.pk,
            "deeplink": target,
            "created_at": timezone.now(),
            "test": True,
        }
    )
    return ClickRedirect(click_uuid=click_uuid, location=location)


def _uuid_parameter(parameters: Mapping[str, Sequence[str]], name: str) -> UUID | None:
    values = parameters.get(name) or ()
    return parse_uuid(values[0]) if len(values) == 1 else None


def _ref_parameter(parameters: Mapping[str, Sequence[str]], name: str) -> str:
    values = parameters.get(name) or ()
    if len(values) > 1:
        raise ClickRefused(400, f"This tracking link gives “{name}” more than once.")
    value = values[0] if values else ""
    # Refused rather than cut: the ref is the partner's key to its shopper, and a cut one
    # would silently match nobody, or the wrong shopper.
    if len(value) > REF_MAX_LENGTH:
        raise ClickRefused(
            400, f"This tracking link's “{name}” is longer than {REF_MAX_LENGTH} characters."
        )
    if _REF_FORBIDDEN.search(value):
        raise ClickRefused(400, f"This tracking link's “{name}” holds characters it cannot.")
    return value


def _target_page(parameters: Mapping[str, Sequence[str]], route: ClickRoute) -> str:
    """The deeplink when it is acceptable (given once, on an allowed host), else the landing URL."""
    values = parameters.get("deeplink") or ()
    deeplink = allowed_http_url(values[0], route.allowed_domains) if len(values) == 1 else None
    # A `click` already inside the page's URL would overwrite the fresh one in the store's
    # cookie when the shopper arrives there.
    return with_query_parameters(deeplink or route.landing_url, {}, drop=frozenset({"click"}))


def _location(route: ClickRoute, click_uuid: UUID, target: str) -> str:
    """Where the shopper goes, as HttpResponseRedirect would send it, checked before storing."""
    if route.redirect_page_url:
        location = with_query_parameters(
            route.redirect_page_url, {"click": str(click_uuid), "deeplink": target}
        )
    else:
        location = with_query_parameters(target, {"click": str(click_uuid)})
    # An IRI becomes a URI, and only the web's schemes pass: refused here, before the
    # INSERT, rather than by the response once the click is stored.
    location = iri_to_uri(location)
    if not location.startswith(("https://", "http://")):
        raise DisallowedRedirect(f"Unsafe redirect to URL with protocol {location[:10]!r}")
    return location


def _made_before(moment: datetime) -> Q:
    # No margin: a retention job should not read the next hour's clicks only to skip them,
    # and a click it misses (its UUIDv7 later than its created_at) is done on the next run.
    return created_between(until=moment, margin=timedelta(0))


def anonymize_clicks_before(moment: datetime, batch_size: int = 1000) -> int:
    """Cut the IP address and reduce the user agent of clicks made before `moment`; how many."""
    anonymized = 0
    while True:
        # The partial index click_to_anonymize holds only the rows still to do, so every
        # batch starts at the oldest of them without reading the part already done.
        batch = list(
            Click.objects.filter(_made_before(moment), is_anonymized=False)
            .order_by("uuid")
            .only("uuid", "ip_address", "browser")[:batch_size]
        )
        if not batch:
            return anonymized
        for click in batch:
            click.ip_address = mask_ip(click.ip_address)
            click.browser = coarse_user_agent(click.browser)
            click.is_anonymized = True
        Click.objects.bulk_update(batch, ["ip_address", "browser", "is_anonymized"])
        anonymized += len(batch)


def longest_attribution_window() -> timedelta:
    """How old a click of any program may be and still convert: younger clicks are kept.

    A click converts within its program's attribution window, and a missed order placed in
    that window can still be claimed (and accepted) for the program's claim period after.
    """
    longest = Program.objects.aggregate(longest=Max(F("attribution_days") + F("claim_days")))[
        "longest"
    ]
    return timedelta(days=longest or 0)


def prune_clicks_before(moment: datetime, batch_size: int = 1000) -> int:
    """Delete the clicks made before `moment` that no conversion or claim references; how many.

    ValueError when `moment` is within some program's attribution window: such clicks
    can still be converted. On partitioned PostgreSQL the months whose keys are all older
    than `moment` go whole (`partitions.drop_click_partitions_before`), and only the rest
    row by row: the job passes a month's start, so that nothing is left for rows. Row by
    row, a batch at a time: a conversion that arrives for a click while its batch is
    being deleted makes the batch fail as a whole (the foreign key), never dangle.
    """
    window = longest_attribution_window()
    if moment > timezone.now() - window:
        raise ValueError(
            "that would delete clicks that can still convert: a program attributes "
            f"conversions (or claims for missed ones) to clicks up to {window.days} days old"
        )
    # PostgreSQL first drops the months all older than `moment` whole; the clicks kept in
    # them are all referenced, so the rows left to go one by one start after them.
    dropped = drop_click_partitions_before(moment)
    return dropped + delete_unreferenced_clicks(moment, kept_clicks_until(), batch_size)


def delete_unreferenced_clicks(moment: datetime, since: UUID | None, batch_size: int) -> int:
    """Delete, a batch at a time, the clicks with keys from `since` (when given) made before
    `moment` that no conversion or claim refers to; how many."""
    deleted = 0
    referenced = Conversion.objects.filter(click=OuterRef("pk"))
    claimed = Claim.objects.filter(click=OuterRef("pk"))
    after: UUID | None = None
    while True:
        candidates = Click.objects.filter(_made_before(moment))
        if since is not None:
            candidates = candidates.filter(uuid__gte=since)
        if after is not None:
            candidates = candidates.filter(uuid__gt=after)
        batch = list(candidates.order_by("uuid").values_list("uuid", flat=True)[:batch_size])
        if not batch:
            return deleted
        after = batch[-1]
        unreferenced = Click.objects.filter(uuid__in=batch).exclude(Exists(referenced))
        _, per_model = unreferenced.exclude(Exists(claimed)).delete()
        deleted += per_model.get(Click._meta.label, 0)


# A day is rolled up this long after it ends: a click stamped just before midnight may
# still be committing at midnight.
ROLLUP_MARGIN = timedelta(minutes=10)


def roll_up_click_days(now: datetime | None = None) -> int:
    """Count each finished UTC day's real clicks per partner and program into ClickDay
    (counted clicks and bot clicks apart; test clicks are no figure, so not rolled up).

    Days are rolled in order after `ClickRollup.last_day` (from the first click's day on the
    first run), each in its own short transaction that writes the day's rows (an upsert, so
    a rerun rewrites the same counts) and moves `last_day`: the job can be stopped and run
    again at any time. Returns how many days it rolled up.
    """
    now = now or timezone.now()
    last_finished = (now - ROLLUP_MARGIN).date() - timedelta(days=1)
    day = _first_day_to_roll_up()
    rolled = 0
    while day is not None and day <= last_finished:
        since = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        until = since + timedelta(days=1)
        counts = (
            Click.objects.filter(created_between(since, until), REAL)
            .values("partner_id", "program_id")
            .annotate(clicks=Count("uuid", filter=~BOT), bot_clicks=Count("uuid", filter=BOT))
            .order_by()
        )
        rows = [
            ClickDay(
                partner_id=row["partner_id"],
                program_id=row["program_id"],
                day=day,
                clicks=row["clicks"],
                bot_clicks=row["bot_clicks"],
            )
            for row in counts
        ]
        with transaction.atomic():
            ClickDay.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["partner", "day", "program"],
                update_fields=["clicks", "bot_clicks"],
            )
            ClickRollup.objects.update_or_create(pk=1, defaults={"last_day": day})
        rolled += 1
        day += timedelta(days=1)
    return rolled


def _first_day_to_roll_up() -> date | None:
    last_day = rolled_up_through()
    if last_day is not None:
        return last_day + timedelta(days=1)
    # The primary key is time-ordered: the first click is the first in its index.
    first = Click.objects.order_by("uuid").values_list("created_at", flat=True).first()
    return first.astimezone(UTC).date() if first else None
