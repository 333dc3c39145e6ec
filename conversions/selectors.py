"""Reads of conversions, and the one representation of a conversion that leaves Retrack.

The store API, the partner feed (whose items are stored snapshots of this) and the back
office all show a conversion as `conversion_document` builds it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from conversions import trust
from conversions.models import (
    ChangeAction,
    Conversion,
    ConversionChange,
    ConversionFlag,
    ProductLine,
    ReportLogEntry,
)
from stores.models import EventKind, Program


def conversions_with_relations() -> QuerySet[Conversion]:
    """Conversions with everything `conversion_document` reads, in a fixed number of queries."""
    return Conversion.objects.select_related(
        "click", "partner", "program__store", "event"
    ).prefetch_related(
        Prefetch(
            "lines", queryset=ProductLine.objects.select_related("event").order_by("position")
        ),
        Prefetch(
            "flags",
            queryset=ConversionFlag.objects.filter(cleared_at__isnull=True).order_by(
                "raised_at", "pk"
            ),
            to_attr="open_flags",
        ),
    )


def open_flags(conversion: Conversion) -> list[ConversionFlag]:
    """The conversion's open flags, oldest first (prefetched by `conversions_with_relations`)."""
    prefetched = getattr(conversion, "open_flags", None)
    if prefetched is not None:
        return prefetched
    if conversion.pk is None:
        return []
    return list(conversion.flags.filter(cleared_at__isnull=True).order_by("raised_at", "pk"))


# Which changes partners may learn of, by feed or webhook: never a test conversion's.
# The query and the check below are the same rule; keep them together.
def partner_visible_changes() -> QuerySet[ConversionChange]:
    """The changes the partner feed may show: numbered ones (see `sequencing`), not tests."""
    return ConversionChange.objects.filter(test=False, sequence__isnull=False)


def is_partner_visible(change: ConversionChange) -> bool:
    """Whether a change, just made, may be pushed to its partner (webhooks)."""
    return not change.test


# What each action means to a partner (contract section 6, `change_type`). An action added
# later that is not listed reads as `amended`: the conversion changed, nothing was decided.
_CHANGE_TYPES = {
    ChangeAction.CREATED: "created",
    ChangeAction.AMENDED: "amended",
    ChangeAction.APPROVED: "approved",
    ChangeAction.REJECTED: "rejected",
}


CHANGE_TYPES = sorted(set(_CHANGE_TYPES.values()))


def change_type(action: ChangeAction | str) -> str:
    """The feed's and webhooks' `change_type` of a change with this action."""
    return _CHANGE_TYPES.get(action, "amended")


def auto_approve_at(
    conversion: Conversion, flags: list[ConversionFlag] | None = None
) -> datetime | None:
    """When the auto-approval job approves this conversion unless it is rejected first.

    Its program's validation period after its creation (`approve_due_conversions` takes it
    on its first run from then on); None once approved or rejected, and while held for
    review (`conversions.trust`). `flags`, when given, are its open flags.
    """
    if flags is None:
        flags = open_flags(conversion)
    return trust.auto_approve_at(conversion, has_open_flags=bool(flags))


def iso_utc(moment) -> str | None:
    """A time as the APIs write it: ISO-8601 in UTC with a Z; None stays None."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def conversion_document(
    conversion: Conversion,
    lines: list[ProductLine] | None = None,
    flags: list[ConversionFlag] | None = None,
) -> dict[str, Any]:
    """The conversion as the contract (section 4) shows it, in snake_case, without `flags`.

    This is what partners see (their feed stores it): a flagged conversion shows only as
    pending with `auto_approve_at` null. The store API adds the flags
    (`store_conversion_document`). `lines` and `flags`, when given, are the conversion's
    product lines (with their events) in order and its open flags; otherwise they are read.
    """
    if lines is None:
        lines = list(conversion.lines.all())
    if flags is None:
        flags = open_flags(conversion)
    click = conversion.click
    program = conversion.program
    store = program.store
    document: dict[str, Any] = {
        "uuid": str(conversion.uuid),
        # str(): an instance built in memory holds the enum members, not plain strings.
        "kind": str(conversion.kind),
        "status": str(conversion.status),
        "reason": conversion.status_reason,
    }
    if conversion.kind == EventKind.TRANSACTION:
        document["order_number"] = conversion.order_number
    else:
        document["reference"] = conversion.reference
    document.update(
        {
            "order_sum": conversion.order_sum,
            "vat_sum": conversion.vat_sum,
            "commission": conversion.commission,
            "commission_breakdown": conversion.commission_breakdown,
            "currency": conversion.currency,
            "vouchers": list(conversion.vouchers),
            "products": [
                {
                    "event": {"uuid": str(line.event.uuid), "name": line.event.name},
                    "reference": line.reference,
                    "name": line.name,
                    "quantity": line.quantity,
                    "price": line.price,
                    "vat": line.vat,
                    "commission": line.commission,
                }
                for line in lines
            ],
            "event": {"uuid": str(conversion.event.uuid), "name": conversion.event.name},
            "source": str(conversion.source),
            "confirmed": conversion.confirmed,
            "auto_approve_at": iso_utc(auto_approve_at(conversion, flags)),
            "test": conversion.test,
            "created_at": iso_utc(conversion.created_at),
            "updated_at": iso_utc(conversion.updated_at),
            "click": {
                "uuid": str(click.uuid),
                "ref": click.ref,
                "ref2": click.ref2,
                "ref3": click.ref3,
                "deeplink": click.deeplink,
                "ip_address": click.ip_address,
                "browser": click.browser,
                "referer": click.referer,
                "country": click.country,
                "created_at": iso_utc(click.created_at),
            },
            "publisher": {
                "uuid": str(conversion.partner.uuid),
                "name": conversion.partner.name,
                "created_at": iso_utc(conversion.partner.created_at),
            },
            "advertiser": {"uuid": str(store.uuid), "name": store.name},
            "program": {"uuid": str(program.uuid), "name": program.name},
        }
    )
    return document


def flag_document(flag: ConversionFlag) -> dict[str, Any]:
    """A flag as the store API shows it."""
    return {"code": str(flag.code), "reason": flag.reason, "raised_at": iso_utc(flag.raised_at)}


def store_conversion_document(
    conversion: Conversion,
    lines: list[ProductLine] | None = None,
    flags: list[ConversionFlag] | None = None,
    document: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The conversion as the store API shows it: `conversion_document` plus its open flags.

    `document`, when given, is the conversion's `conversion_document`, already built.
    """
    if flags is None:
        flags = open_flags(conversion)
    if document is None:
        document = conversion_document(conversion, lines=lines, flags=flags)
    return {**document, "flags": [flag_document(flag) for flag in flags]}


def store_reports(
    store_id: int,
    *,
    limit: int,
    before: UUID | None = None,
    outcome: str | None = None,
    source: str | None = None,
    program_uuid: UUID | None = None,
) -> tuple[list[ReportLogEntry], bool]:
    """A page of the store's report log, newest first, and whether older entries remain.

    Entries are UUIDv7s, so "older than the cursor" is `uuid < before` on the
    (store, uuid) index: no OFFSET, however deep the page.
    """
    entries = ReportLogEntry.objects.filter(store_id=store_id).select_related(
        "program", "conversion"
    )
    if before is not None:
        entries = entries.filter(uuid__lt=before)
    if outcome:
        entries = entries.filter(outcome=outcome)
    if source:
        entries = entries.filter(source=source)
    if program_uuid is not None:
        entries = entries.filter(program__uuid=program_uuid)
    rows = list(entries.order_by("-uuid")[: limit + 1])
    return rows[:limit], len(rows) > limit


def report_document(entry: ReportLogEntry) -> dict[str, Any]:
    """A report log entry as `GET /api/v2/reports` shows it (contract section 8)."""
    document: dict[str, Any] = {
        "uuid": str(entry.uuid),
        "received_at": iso_utc(entry.received_at),
        "source": entry.source,
        "kind": entry.kind,
        "outcome": entry.outcome,
        "code": entry.code,
        "message": entry.message,
        "status_code": entry.status_code,
        "program": str(entry.program.uuid) if entry.program else None,
        "click": entry.click or None,
    }
    key_name = "reference" if entry.kind == EventKind.LEAD else "order_number"
    document[key_name] = entry.key or None
    document.update(
        {
            "conversion": str(entry.conversion.uuid) if entry.conversion else None,
            "test": entry.test,
            "payload": entry.payload,
        }
    )
    return document


@dataclass(frozen=True)
class ProgramReports:
    """The back office's view of a program's report log."""

    latest: list[ReportLogEntry]
    # (code, refusals in the last day, in the last week), most frequent first.
    refusals: list[tuple[str, int, int]]
    last_received: dict[str, datetime]


def program_reports(program: Program, *, now: datetime, latest: int = 20) -> ProgramReports:
    """The latest reports, refusals by code over a day and a week, the last per source."""
    entries = ReportLogEntry.objects.filter(program=program)
    week = entries.filter(received_at__gte=now - timedelta(days=7), outcome="refused")

    rows = (
        week.values("code")
        .annotate(
            day=Count("pk", filter=Q(received_at__gte=now - timedelta(days=1))), week=Count("pk")
        )
        .order_by("-week", "code")
    )
    last = entries.values("source").annotate(last=Max("received_at"))
    return ProgramReports(
        latest=list(entries.order_by("-received_at")[:latest]),
        refusals=[(row["code"], row["day"], row["week"]) for row in rows],
        last_received={row["source"]: row["last"] for row in last},
    )
