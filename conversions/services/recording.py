"""Recording a report: one path for every source, the store API and the browser tag alike.

`record_conversion` parses the report, attributes it to its click (the click exists, is
the store's, is within the attribution window; the events are the program's; the currency
is the program's), prices it and stores it with its product lines and its `created`
history entry in one short transaction. A replay of a stored report (same natural key or
Idempotency-Key, same business fields) answers the stored conversion; a different report
under the same key is refused with a 409, except that the store's server outranks the
browser: a store API report of a pending order only a browser reported replaces its values.

The program's limits and the flags (`conversions.trust`) are applied here, once for both
channels: a store API report over a limit is refused, a browser report over one stored
with a `limit_exceeded` flag; `bot_click`, `too_fast` and `click_reused` are raised on any.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from clicks.models import Click
from clicks.selectors import ReportedClick, reported_click
from conversions.commission import Commission, CommissionBasis
from conversions.models import (
    ChangeAction,
    Conversion,
    ConversionSource,
    ConversionStatus,
    ProductLine,
)
from conversions.payloads import LineInput, parse_idempotency_key, parse_lead, parse_transaction
from conversions.refusals import ConversionRefused
from conversions.selectors import (
    conversion_document,
    conversions_with_relations,
    flag_document,
    store_conversion_document,
)
from conversions.services.flags import clear_limit_exceeded_flags, raise_flags
from conversions.services.history import record_change
from conversions.services.pricing import (
    line_record,
    priced_lines,
    product_lines,
    reported_events,
    resolve_events,
    storable_commission,
)
from conversions.trust import (
    click_flags,
    limit_breaches,
    limit_exceeded_flag,
    limit_exceeded_refusal,
    lock_click,
    open_flag_codes,
)
from retrack.lib.plain_sql import insert_instances
from stores.models import Event, EventKind, Store

TAG_ACTOR = "tag"
# What the store's server itself reported: confirmed, and refused over a program's limits.
STORE_SOURCES = (ConversionSource.API, ConversionSource.CLAIM)


@dataclass(frozen=True)
class RecordedConversion:
    """What `record_conversion` answers: the conversion, its document, and whether it is new.

    `document` is the conversion as the store API shows it (`store_conversion_document`,
    flags included), built from the rows just written (no re-read); `created` is False
    for a replay of a stored report, and for a browser report the store API confirmed.
    """

    conversion: Conversion
    document: dict[str, Any]
    created: bool


def record_conversion(
    kind: EventKind | str,
    payload: Any,
    *,
    source: ConversionSource,
    store: Store | None,
    idempotency_key: str | None = None,
    actor: str | None = None,
) -> RecordedConversion:
    """Validate, attribute and store a transaction or a lead from the contract's payload.

    `payload` is the contract's camelCase body for `kind`. `store` is the store whose
    token reported it; None means the browser tag: the program is the click's and no store
    scoping applies (the caller removes the tag body's `kind`). `actor` names who reported it
    in the history when that is not the store itself or the tag (an accepted claim). A
    claim's conversion (`source` claim) is not bound by the attribution window: the store
    has just accepted it. Raises ConversionRefused, having written nothing, when the report
    is refused.
    """
    report = _parse_report(EventKind(kind), payload)
    idempotency_key = parse_idempotency_key(idempotency_key)
    reported = _attributable_click(report, store)
    click, program = reported.click, reported.click.program
    fingerprint = report.fingerprint()
    now = timezone.now()
    try:
        order_event, line_events = _attribute(report, reported, now, source)
        commission = _commission(report, order_event, line_events)
        breaches = limit_breaches(
            program,
            order_sum=report.order_sum,
            quantities=[line.quantity for line in report.products],
            commission=commission.total,
        )
        if breaches and source in STORE_SOURCES:
            raise limit_exceeded_refusal(breaches)
    except ConversionRefused as refusal:
        # A replay of a stored report still answers it, e.g. after its click has expired.
        existing = _find_existing(click, report, idempotency_key)
        if existing is None:
            raise
        if refusal.code == "limit_exceeded" and existing.payload_fingerprint != fingerprint:
            raise  # over the limits is the answer, whatever is stored under the key
        return _replay(existing, report, fingerprint)

    conversion = Conversion(
        kind=report.kind,
        program=program,
        partner=click.partner,
        click=click,
        event=order_event,
        order_number=report.key if report.kind == EventKind.TRANSACTION else None,
        reference=report.key if report.kind == EventKind.LEAD else None,
        order_sum=report.order_sum,
        vat_sum=report.vat_sum,
        commission=commission.total,
        commission_breakdown=commission.breakdown,
        currency=program.currency,
        vouchers=list(report.vouchers),
        source=source,
        confirmed=source in STORE_SOURCES,
        test=click.test,
        idempotency_key=idempotency_key,
        payload_fingerprint=fingerprint,
        created_at=now,
        updated_at=now,
    )
    lines = product_lines(conversion, report.products, line_events, commission)
    if actor is None:
        actor = f"store:{store.name}" if store is not None else TAG_ACTOR
    accepted = _Accepted(click, order_event, line_events, commission, store, actor)
    try:
        # The unique constraints decide, not a prior read: a replay's or a racing twin's
        # INSERT fails (after waiting for the winner to commit) and it answers the winner.
        with transaction.atomic():
            # One conversion per click at a time, so that the click's count is exact.
            lock_click(click)
            raised = click_flags(click, program, now)
            if breaches:
                raised.insert(0, limit_exceeded_flag(breaches))
            insert_instances([conversion])
            insert_instances(lines)
            flags = raise_flags(conversion, raised, now)
            # Built from the rows just written, with their relations at hand: no re-read.
            document = conversion_document(conversion, lines=lines, flags=flags)
            changes = {"flags": [[], [flag.code for flag in flags]]} if flags else None
            record_change(
                conversion,
                action=ChangeAction.CREATED,
                actor=accepted.actor,
                changes=changes,
                document=document,
                partner_has_webhooks=reported.partner_has_webhooks,
            )
    except IntegrityError:
        winner = _find_existing(click, report, idempotency_key)
        if winner is None:
            raise
        return _replay(winner, report, fingerprint, accepted)
    return RecordedConversion(
        conversion, store_conversion_document(conversion, flags=flags, document=document), True
    )


@dataclass(frozen=True)
class _Accepted:
    """What a report that passed every check resolved to: enough to store its values."""

    click: Click
    order_event: Event
    line_events: list[Event]
    commission: Commission
    store: Store | None
    actor: str


@dataclass(frozen=True)
class _Report:
    """A parsed report, whichever its kind, with what creating it needs."""

    kind: EventKind
    key: str
    event: Any
    click: Any
    currency: str | None
    order_sum: int
    vat_sum: int
    products: tuple[LineInput, ...]
    vouchers: tuple[str, ...]

    def fingerprint(self) -> str:
        """A digest of the business fields: equal for a replay, whatever its formatting.

        Product names are left out: they are display text, and the tag and the store's
        server may spell them differently for the same order.
        """
        canonical = {
            "kind": str(self.kind),
            "key": self.key,
            "event": str(self.event),
            "click": str(self.click),
            "currency": self.currency,
            "order_sum": self.order_sum,
            "vat_sum": self.vat_sum,
            "vouchers": sorted(self.vouchers),
            "lines": [
                [str(line.event), line.reference, line.quantity, line.price, line.vat]
                for line in self.products
            ],
        }
        encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(encoded.encode()).hexdigest()


def _parse_report(kind: EventKind, payload: Any) -> _Report:
    if kind == EventKind.LEAD:
        return _lead_report(payload)
    return _transaction_report(payload)


def _transaction_report(payload: Any) -> _Report:
    data = parse_transaction(payload)
    return _Report(
        kind=EventKind.TRANSACTION,
        key=data.order_number,
        event=data.event,
        click=data.click,
        currency=data.currency,
        order_sum=data.order_sum,
        vat_sum=data.vat_sum,
        products=data.products,
        vouchers=data.vouchers,
    )


def _lead_report(payload: Any) -> _Report:
    data = parse_lead(payload)
    return _Report(
        kind=EventKind.LEAD,
        key=data.reference,
        event=data.event,
        click=data.click,
        currency=None,
        order_sum=0,
        vat_sum=0,
        products=(),
        vouchers=data.vouchers,
    )


def _attribute(
    report: _Report, reported: ReportedClick, now: datetime, source: ConversionSource
) -> tuple[Event, list[Event]]:
    """The report's events, once the click's age, the events and the currency are checked."""
    click, program = reported.click, reported.click.program
    expired = click.created_at < now - timedelta(days=program.attribution_days)
    if expired and source != ConversionSource.CLAIM:
        raise ConversionRefused(
            422,
            "click_expired",
            f"The click is older than the program's attribution window "
            f"({program.attribution_days} days).",
            {"click": ["is older than the attribution window"]},
        )
    order_event, line_events = resolve_events(
        program, report.kind, report.event, report.products, reported.events
    )
    if report.currency is not None and report.currency != program.currency:
        raise ConversionRefused(
            422,
            "currency_mismatch",
            f"The program's currency is {program.currency}, not {report.currency}.",
            {"currency": [f"must be {program.currency}"]},
        )
    return order_event, line_events


def _attributable_click(report: _Report, store: Store | None) -> ReportedClick:
    """The report's click, and those of its events that are the click's program's."""
    found = reported_click(report.click, reported_events(report.event, report.products))
    if found is None:
        raise ConversionRefused(
            422, "click_not_found", "No click has this UUID.", {"click": ["is not a known click"]}
        )
    if store is not None and found.click.program.store_id != store.pk:
        raise ConversionRefused(
            422,
            "click_not_yours",
            "The click belongs to another store's program.",
            {"click": ["belongs to another store's program"]},
        )
    return found


def _find_existing(click: Click, report: _Report, idempotency_key: str | None) -> Conversion | None:
    """The stored conversion with the report's natural key, else with its Idempotency-Key.

    Only among the click's kind of conversions: a test order never answers for a real one.
    """
    key_field = "order_number" if report.kind == EventKind.TRANSACTION else "reference"
    condition = Q(kind=report.kind, **{key_field: report.key})
    if idempotency_key is not None:
        condition |= Q(idempotency_key=idempotency_key)
    candidates = list(
        Conversion.objects.filter(condition, program=click.program, test=click.test).only(
            "pk", "uuid", "kind", "order_number", "reference", "payload_fingerprint"
        )[:2]
    )
    for candidate in candidates:
        if candidate.kind == report.kind and getattr(candidate, key_field) == report.key:
            return candidate
    return candidates[0] if candidates else None


def _replay(
    existing: Conversion, report: _Report, fingerprint: str, accepted: "_Accepted | None" = None
) -> RecordedConversion:
    """The stored conversion when the report repeats it; a 409 when it differs.

    Except that the store's server outranks the browser: an `accepted` store API report
    of an order that only a browser reported, still pending, replaces its values.
    """
    same_key = existing.kind == report.kind and report.key in (
        existing.order_number,
        existing.reference,
    )
    if same_key and accepted is not None and accepted.store is not None:
        confirmed = _confirm_browser_report(existing, report, fingerprint, accepted)
        if confirmed is not None:
            return confirmed
    if same_key and existing.payload_fingerprint == fingerprint:
        stored = conversions_with_relations().get(pk=existing.pk)
        return RecordedConversion(stored, store_conversion_document(stored), False)
    plural = "transactions" if existing.kind == EventKind.TRANSACTION else "leads"
    if not same_key:
        raise ConversionRefused(
            409,
            "idempotency_key_conflict",
            "This Idempotency-Key was already used for a different report "
            f"(conversion {existing.uuid}).",
            {"Idempotency-Key": ["was already used for a different report"]},
        )
    key_name = "orderNumber" if report.kind == EventKind.TRANSACTION else "reference"
    raise ConversionRefused(
        409,
        "duplicate_conflict",
        f"A {existing.kind} with this {key_name} already exists with different data; "
        f"to change it, call PATCH /api/v2/{plural}/{existing.uuid}.",
        {key_name: ["already exists with different data"]},
    )


def _commission(report: _Report, order_event: Event, line_events: list[Event]) -> Commission:
    basis = CommissionBasis(
        kind=report.kind,
        event=order_event,
        order_sum=report.order_sum,
        vat_sum=report.vat_sum,
        lines=priced_lines(report.products, line_events),
    )
    return storable_commission(basis)


def _confirm_browser_report(
    existing: Conversion, report: _Report, fingerprint: str, accepted: _Accepted
) -> RecordedConversion | None:
    """Replace a pending, browser-only conversion's values with the store API's report.

    The answer is the conversion, now `confirmed`; the history records every field the
    store's values changed. `limit_exceeded` flags raised on the browser's values are
    cleared by the store (its own values are within the limits, or it was refused); the
    click's flags stay, and a different click's are raised. None when the conversion is
    not (or no longer) pending and browser-only: the usual replay answers then.
    """
    now = timezone.now()
    actor = accepted.actor
    with transaction.atomic():
        locked = Conversion.objects.select_for_update().get(pk=existing.pk)
        if locked.confirmed or locked.status != ConversionStatus.PENDING:
            return None
        fresh = conversions_with_relations().get(pk=locked.pk)
        before = conversion_document(fresh)
        flags_before = sorted(flag_document(flag)["code"] for flag in fresh.open_flags)
        new_lines = product_lines(
            locked, report.products, accepted.line_events, accepted.commission
        )
        new_click = accepted.click
        changes: dict[str, list[Any]] = {}
        for field, old, new in (
            ("click", str(locked.click_id), str(new_click.pk)),
            ("event", before["event"]["uuid"], str(accepted.order_event.uuid)),
            ("order_sum", locked.order_sum, report.order_sum),
            ("vat_sum", locked.vat_sum, report.vat_sum),
            ("commission", locked.commission, accepted.commission.total),
            ("vouchers", list(locked.vouchers), list(report.vouchers)),
            (
                "products",
                [line_record(line) for line in fresh.lines.all()],
                [line_record(line) for line in new_lines],
            ),
            ("confirmed", False, True),
        ):
            if old != new:
                changes[field] = [old, new]
        if new_click.partner_id != locked.partner_id:
            _move_away_from_partner(locked, before, actor, changes["click"])
        if new_click.pk != locked.click_id:
            lock_click(new_click)
            raise_flags(locked, click_flags(new_click, locked.program, now), now)
        clear_limit_exceeded_flags(locked, actor=actor, now=now)
        flags_after = open_flag_codes(locked)
        if flags_before != flags_after:
            changes["flags"] = [flags_before, flags_after]
        _store_report_values(locked, report, fingerprint, accepted, now)
        if "products" in changes:
            ProductLine.objects.filter(conversion=locked).delete()
            ProductLine.objects.bulk_create(new_lines)
        change = record_change(
            locked,
            action=ChangeAction.AMENDED,
            actor=actor,
            changes=changes,
            reason="Reported by the store's server: its values replace the browser's.",
        )
    stored = change.conversion
    return RecordedConversion(stored, store_conversion_document(stored), False)


def _move_away_from_partner(
    conversion: Conversion, before: dict[str, Any], actor: str, click_change: list[str]
) -> None:
    """Tell the partner whose click a browser named that the conversion is not its own.

    The store's server named another partner's click: the first partner's feed shows the
    conversion rejected, with why (it is pending, on the other partner's feed).
    """
    reason = "The store's server reported this order on another partner's click."
    record_change(
        conversion,
        action=ChangeAction.REJECTED,
        actor=actor,
        reason=reason,
        changes={"click": click_change},
        document={**before, "status": "rejected", "reason": reason, "auto_approve_at": None},
    )


def _store_report_values(
    conversion: Conversion, report: _Report, fingerprint: str, accepted: _Accepted, now
) -> None:
    conversion.click = accepted.click
    conversion.partner_id = accepted.click.partner_id
    conversion.event = accepted.order_event
    conversion.order_sum = report.order_sum
    conversion.vat_sum = report.vat_sum
    conversion.commission = accepted.commission.total
    conversion.commission_breakdown = accepted.commission.breakdown
    conversion.vouchers = list(report.vouchers)
    conversion.confirmed = True
    conversion.payload_fingerprint = fingerprint
    conversion.updated_at = now
    conversion.save(
        update_fields=[
            "click",
            "partner",
            "event",
            "order_sum",
            "vat_sum",
            "commission",
            "commission_breakdown",
            "vouchers",
            "confirmed",
            "payload_fingerprint",
            "updated_at",
        ]
    )
