"""Writes to clicks: recording a click (the hot path) and the retention jobs."""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from uuid import UUID

import psycopg
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import BooleanField, CharField, Exists, ForeignKey, Max, OuterRef
from django.utils import timezone

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
from retrack.lib.urls import allowed_http_url, with_query_parameters
from retrack.lib.uuids import uuid7, uuid7_floor
from retrack.lib.visitors import coarse_user_agent, mask_ip
from stores.models import Program, ProgramStatus

REF_PARAMETERS = ("ref", "ref2", "ref3")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# Control characters, and the replacement character that stands for bytes that were not
# UTF-8: a ref is stored exactly as the partner sent it, or not at all.
_REF_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\ufffd]")


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
    Refusals raise ClickRefused before anything is written. The redirect is built before
    the click's single INSERT, so nothing can fail after it; outside a transaction (the
    click view runs in autocommit) the INSERT has committed when this returns. A database
    error propagates: the caller must not redirect then, so a redirected shopper always
    has a stored click.
    """
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
    click_uuid = uuid7()
    location = _location(route, click_uuid, target)
    _insert_click(
        {
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
    )
    return ClickRedirect(click_uuid=click_uuid, location=location)


def _insert_click(row: dict[str, Any]) -> None:
    """The click's single INSERT, with every column of `row` (keyed by field attname).

    It does what `Click(**row).save(force_insert=True)` would, without what the hot path
    does not need: the ORM compiled the same statement anew for every click and prepared
    every value through its field, together as much CPU as sending the INSERT. The SQL
    is built once, and only the values whose stored form differs between backends (the
    UUID, the address, the time) go through their field.

    A connection that fails (a persistent connection that died with a database restart
    or an idle timeout) gets one more try on a fresh connection, so that a shopper is not
    turned away for it.
    """
    connection = connections[router.db_for_write(Click)]
    sql, columns = _insert_statement(connection.alias)
    values = [
        row[name] if prepare is None else prepare(row[name], connection)
        for name, prepare in columns
    ]
    try:
        _execute(connection, sql, values)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        connection.close()
        try:
            _execute(connection, sql, values)
        except IntegrityError:
            # Same UUID: the first INSERT had committed and only its answer was lost.
            if not Click.objects.filter(pk=row["uuid"]).exists():
                raise


def _execute(connection: BaseDatabaseWrapper, sql: str, values: list) -> None:
    with _insert_cursor(connection) as cursor:
        cursor.execute(sql, values)


def _insert_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """Django's cursor; on PostgreSQL one that binds the values on the server.

    Django's psycopg cursors bind on the client, formatting every value into the SQL
    text in Python, which cost the click path more than any other single step. This
    cursor has psycopg send them apart, as the protocol's parameters, and is wrapped
    exactly as `connection.cursor()` wraps its own: the same error translation, query
    logging and execute wrappers.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


# Text, flags and ids reach every backend as they are; the rest take the backend's form.
_STORED_AS_GIVEN = (CharField, BooleanField, ForeignKey)


@cache
def _insert_statement(alias: str) -> tuple[str, list[tuple[str, Callable | None]]]:
    quote_name = connections[alias].ops.quote_name
    fields = list(Click._meta.concrete_fields)
    columns = ", ".join(quote_name(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote_name(Click._meta.db_table)} ({columns}) VALUES ({placeholders})"
    preparation = [
        (field.attname, None if isinstance(field, _STORED_AS_GIVEN) else field.get_db_prep_save)
        for field in fields
    ]
    return sql, preparation


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
    if route.redirect_page_url:
        return with_query_parameters(
            route.redirect_page_url, {"click": str(click_uuid), "deeplink": target}
        )
    return with_query_parameters(target, {"click": str(click_uuid)})


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
