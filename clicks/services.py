"""Writes to clicks: recording a click (the hot path) and the retention jobs."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from django.core.exceptions import DisallowedRedirect
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef
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
    ClickDayRollup,
)
from clicks.selectors import ClickRoute, click_route, daily_clicks_by, is_closed_day
from conversions.models import Conversion
from retrack.lib.database import once_more_on_a_fresh_connection
from retrack.lib.urls import allowed_http_url, with_query_parameters
from retrack.lib.uuids import uuid7, uuid7_floor
from retrack.lib.validation import BIDI_CONTROLS
from retrack.lib.visitors import coarse_user_agent, mask_ip
from stores.models import Program, ProgramStatus

REF_PARAMETERS = ("ref", "ref2", "ref3")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
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
    except IntegrityError:
        # Tried again with the same UUID: the first INSERT had committed and only its
        # answer was lost.
        if not Click.objects.filter(pk=click_uuid).exists():
            raise
    return ClickRedirect(click_uuid=click_uuid, location=location)


def _uuid_parameter(parameters: Mapping[str, Sequence[str]], name: str) -> UUID | None:
    values = parameters.get(name) or ()
    if len(values) != 1 or not _UUID.match(values[0]):
        return None
    return UUID(values[0])


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


def _uuid_bound(moment: datetime) -> UUID:
    return uuid7_floor(int(moment.timestamp() * 1000))


def anonymize_clicks_before(moment: datetime, batch_size: int = 1000) -> int:
    """Cut the IP address and reduce the user agent of clicks made before `moment`; how many."""
    bound = _uuid_bound(moment)
    anonymized = 0
    while True:
        # The partial index click_to_anonymize holds only the rows still to do, so every
        # batch starts at the oldest of them without reading the part already done.
        batch = list(
            Click.objects.filter(is_anonymized=False, uuid__lt=bound, created_at__lt=moment)
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
    """The longest attribution window of any program: younger clicks may still convert."""
    days = Program.objects.aggregate(longest=Max("attribution_days"))["longest"] or 0
    return timedelta(days=days)


def prune_clicks_before(moment: datetime, batch_size: int = 1000) -> int:
    """Delete the clicks made before `moment` that no conversion references; how many.

    ValueError when `moment` is within some program's attribution window: such clicks
    can still be converted. A conversion that arrives for a click while its batch is
    being deleted makes the batch fail as a whole (the foreign key), never dangle.
    """
    window = longest_attribution_window()
    if moment > timezone.now() - window:
        raise ValueError(
            "that would delete clicks that can still convert: a program attributes "
            f"conversions to clicks up to {window.days} days old"
        )
    bound = _uuid_bound(moment)
    referenced = Conversion.objects.filter(click=OuterRef("pk"))
    deleted = 0
    after: UUID | None = None
    while True:
        candidates = Click.objects.filter(uuid__lt=bound, created_at__lt=moment)
        if after is not None:
            candidates = candidates.filter(uuid__gt=after)
        batch = list(candidates.order_by("uuid").values_list("uuid", flat=True)[:batch_size])
        if not batch:
            return deleted
        after = batch[-1]
        _, per_model = Click.objects.filter(uuid__in=batch).exclude(Exists(referenced)).delete()
        deleted += per_model.get(Click._meta.label, 0)


def roll_up_click_days(first: date, last: date, *, now: datetime | None = None) -> list[date]:
    """Count the clicks of each closed UTC day of first-last not counted yet into ClickDay.

    One short transaction per day; the day's ClickDayRollup row goes first, so a concurrent
    roll-up of the same day waits for it and then skips the day (nothing is counted twice).
    Answers the days rolled up by this call.
    """
    now = now or timezone.now()
    done = set(
        ClickDayRollup.objects.filter(day__gte=first, day__lte=last).values_list("day", flat=True)
    )
    rolled = []
    days = (first + timedelta(days=offset) for offset in range((last - first).days + 1))
    for day in days:
        if day in done or not is_closed_day(day, now):
            continue
        try:
            with transaction.atomic():
                ClickDayRollup.objects.create(day=day, rolled_up_at=now)
                ClickDay.objects.bulk_create(
                    ClickDay(
                        day=row["day"],
                        program_id=row["program_id"],
                        partner_id=row["partner_id"],
                        is_bot=row["is_bot"],
                        number=row["number"],
                    )
                    for row in daily_clicks_by(day, day)
                )
        except IntegrityError:
            continue  # rolled up meanwhile by another request
        rolled.append(day)
    return rolled
