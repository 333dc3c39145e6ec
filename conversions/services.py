"""Writes to conversions: reports from stores, amendments and the status lifecycle.

One path for every source: the store API and the browser tag both call
`record_transaction` / `record_lead`; the store API's PATCH, the back office and the
auto-approval job call `amend_transaction`, `approve_conversion` and `reject_conversion`.
Every change ends in `record_change`, inside the transaction that made it, so the
conversion's history and its partner's feed always follow.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from clicks.models import Click
from conversions.commission import (
    Commission,
    PricedLine,
    lead_commission,
    transaction_commission,
)
from conversions.models import (
    ChangeAction,
    ChangeCounter,
    Conversion,
    ConversionChange,
    ConversionSource,
    ConversionStatus,
    ProductLine,
)
from conversions.payloads import (
    BIGINT_MAX,
    REASON_MAX_LENGTH,
    LineInput,
    check_lines_match_sums,
    parse_amendment,
    parse_idempotency_key,
    parse_lead,
    parse_lead_amendment,
    parse_transaction,
)
from conversions.refusals import ConversionRefused, invalid
from conversions.selectors import conversion_document, conversions_with_relations
from retrack.metrics import count_conversion
from stores.models import Event, EventKind, Program, Store

__all__ = [
    "ConversionRefused",
    "amend_lead",
    "amend_transaction",
    "approve_conversion",
    "approve_due_conversions",
    "record_change",
    "record_lead",
    "record_lead_document",
    "record_transaction",
    "record_transaction_document",
    "reject_conversion",
]

AUTO_APPROVAL_ACTOR = "system:auto-approval"
TAG_ACTOR = "tag"

# An upsert, so that a counter row lost to `manage.py flush` (or a test's) is remade.
_NEXT_SEQUENCE_SQL = (
    f"INSERT INTO {ChangeCounter._meta.db_table} AS counter (id, last_sequence) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET last_sequence = counter.last_sequence + 1 "
    "RETURNING last_sequence"
)


def record_change(
    conversion: Conversion,
    *,
    action: ChangeAction,
    actor: str,
    changes: dict[str, Any] | None = None,
    reason: str = "",
    document: dict[str, Any] | None = None,
) -> ConversionChange:
    """Append a change to the conversion's history and to its partner's feed.

    Call it as the last write of the transaction that changed the conversion. Taking the
    next sequence number locks the counter row until that transaction commits, so a later
    sequence number is only ever handed out after the earlier one is committed: sequence
    order is commit order, and a feed reader that has seen sequence N can never later find
    a new change below N. The lock is held only for the last two statements and the commit.

    The snapshot is the conversion re-read from the database, unless the caller passes the
    `document` it built from the very rows it just wrote (the create path, to save a read).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_change must run inside the transaction that made the change")
    fresh = conversion
    if document is None:
        fresh = conversions_with_relations().get(pk=conversion.pk)
        document = conversion_document(fresh)
    snapshot = dict(document)
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_SEQUENCE_SQL)
        (sequence,) = cursor.fetchone()
    snapshot["change"] = sequence
    if action != ChangeAction.AMENDED:
        # Counted once committed: a rolled-back change entered no status.
        transaction.on_commit(partial(count_conversion, snapshot["status"]))
    # The change holds the freshly read conversion, relations loaded, for callers to answer.
    return ConversionChange.objects.create(
        conversion=fresh,
        partner_id=conversion.partner_id,
        sequence=sequence,
        action=action,
        actor=actor,
        reason=reason,
        changes=changes or {},
        snapshot=snapshot,
        created_at=timezone.now(),
    )


# --- Creating -----------------------------------------------------------------------------


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


def record_transaction(
    payload: Any,
    *,
    source: ConversionSource,
    store: Store | None = None,
    idempotency_key: str | None = None,
) -> tuple[Conversion, bool]:
    """Validate, attribute and store a transaction from the contract's camelCase payload.

    `store=None` means the browser tag: the program is the click's and no store scoping
    applies (the caller removes the tag body's `kind`). Returns (conversion, created);
    created is False for a replay of the same report. Raises ConversionRefused, having
    written nothing, otherwise.
    """
    outcome = _record(_transaction_report(payload), source, store, idempotency_key)
    return outcome.conversion, outcome.created


def record_lead(
    payload: Any,
    *,
    source: ConversionSource,
    store: Store | None = None,
    idempotency_key: str | None = None,
) -> tuple[Conversion, bool]:
    """Validate, attribute and store a lead (event, click, reference, voucher)."""
    outcome = _record(_lead_report(payload), source, store, idempotency_key)
    return outcome.conversion, outcome.created


def record_transaction_document(
    payload: Any, *, store: Store, idempotency_key: str | None = None
) -> tuple[dict[str, Any], bool]:
    """`record_transaction` for the store API: answers the conversion's document."""
    outcome = _record(_transaction_report(payload), ConversionSource.API, store, idempotency_key)
    return outcome.document, outcome.created


def record_lead_document(
    payload: Any, *, store: Store, idempotency_key: str | None = None
) -> tuple[dict[str, Any], bool]:
    """`record_lead` for the store API: answers the conversion's document."""
    outcome = _record(_lead_report(payload), ConversionSource.API, store, idempotency_key)
    return outcome.document, outcome.created


@dataclass(frozen=True)
class _Outcome:
    conversion: Conversion
    document: dict[str, Any]
    created: bool


def _record(
    report: _Report, source: ConversionSource, store: Store | None, idempotency_key: str | None
) -> _Outcome:
    idempotency_key = parse_idempotency_key(idempotency_key)
    click = _attributable_click(report.click, store)
    program = click.program
    fingerprint = report.fingerprint()
    now = timezone.now()
    try:
        order_event, line_events = _attribute(report, click, now)
    except ConversionRefused:
        # A replay of a stored report still answers it, e.g. after its click has expired.
        existing = _find_existing(program, report, idempotency_key)
        if existing is None:
            raise
        return _replay(existing, report, fingerprint)
    commission = _commission(report, order_event, line_events)

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
        idempotency_key=idempotency_key,
        payload_fingerprint=fingerprint,
        created_at=now,
        updated_at=now,
    )
    lines = _product_lines(conversion, report.products, line_events, commission)
    actor = f"store:{store.name}" if store is not None else TAG_ACTOR
    try:
        # The unique constraints decide, not a prior read: a replay's or a racing twin's
        # INSERT fails (after waiting for the winner to commit) and it answers the winner.
        with transaction.atomic():
            conversion.save(force_insert=True)
            ProductLine.objects.bulk_create(lines)
            # Built from the rows just written, with their relations at hand: no re-read.
            document = conversion_document(conversion, lines=lines)
            record_change(conversion, action=ChangeAction.CREATED, actor=actor, document=document)
    except IntegrityError:
        winner = _find_existing(program, report, idempotency_key)
        if winner is None:
            raise
        return _replay(winner, report, fingerprint)
    return _Outcome(conversion, document, True)


def _attribute(report: _Report, click: Click, now: datetime) -> tuple[Event, list[Event]]:
    """The report's events, once the click's age, the events and the currency are checked."""
    program = click.program
    if click.created_at < now - timedelta(days=program.attribution_days):
        raise ConversionRefused(
            422,
            "click_expired",
            f"The click is older than the program's attribution window "
            f"({program.attribution_days} days).",
            {"click": ["is older than the attribution window"]},
        )
    order_event, line_events = _events(program, report)
    if report.currency is not None and report.currency != program.currency:
        raise ConversionRefused(
            422,
            "currency_mismatch",
            f"The program's currency is {program.currency}, not {report.currency}.",
            {"currency": [f"must be {program.currency}"]},
        )
    return order_event, line_events


def _attributable_click(click_uuid, store: Store | None) -> Click:
    try:
        click = Click.objects.select_related("program__store", "partner").get(pk=click_uuid)
    except Click.DoesNotExist:
        raise ConversionRefused(
            422, "click_not_found", "No click has this UUID.", {"click": ["is not a known click"]}
        ) from None
    if store is not None and click.program.store_id != store.pk:
        raise ConversionRefused(
            422,
            "click_not_yours",
            "The click belongs to another store's program.",
            {"click": ["belongs to another store's program"]},
        )
    return click


def _find_existing(
    program: Program, report: _Report, idempotency_key: str | None
) -> Conversion | None:
    """The stored conversion with the report's natural key, else with its Idempotency-Key."""
    key_field = "order_number" if report.kind == EventKind.TRANSACTION else "reference"
    condition = Q(kind=report.kind, **{key_field: report.key})
    if idempotency_key is not None:
        condition |= Q(idempotency_key=idempotency_key)
    candidates = list(
        Conversion.objects.filter(condition, program=program).only(
            "pk", "uuid", "kind", "order_number", "reference", "payload_fingerprint"
        )[:2]
    )
    for candidate in candidates:
        if candidate.kind == report.kind and getattr(candidate, key_field) == report.key:
            return candidate
    return candidates[0] if candidates else None


def _replay(existing: Conversion, report: _Report, fingerprint: str) -> _Outcome:
    """The stored conversion when the report repeats it; a 409 when it differs."""
    same_key = existing.kind == report.kind and report.key in (
        existing.order_number,
        existing.reference,
    )
    if same_key and existing.payload_fingerprint == fingerprint:
        stored = conversions_with_relations().get(pk=existing.pk)
        return _Outcome(stored, conversion_document(stored), False)
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


def _events(program: Program, report: _Report) -> tuple[Event, list[Event]]:
    """The report's order event and line events, each of the program and the right kind."""
    wanted = {report.event} | {line.event for line in report.products}
    found = {event.uuid: event for event in Event.objects.filter(uuid__in=wanted, program=program)}
    problems: dict[str, list[str]] = {}
    message = f"is not a {report.kind} event of the click's program"

    def usable(event_uuid) -> Event | None:
        event = found.get(event_uuid)
        return event if event is not None and event.kind == report.kind else None

    order_event = usable(report.event)
    if order_event is None:
        problems["event"] = [message]
    line_events: list[Event] = []
    for index, line in enumerate(report.products):
        event = usable(line.event)
        if event is None:
            problems[f"products[{index}].event"] = [message]
        else:
            line_events.append(event)
    if problems:
        raise ConversionRefused(
            422,
            "event_invalid",
            f"Each event must be a {report.kind} event of the click's program.",
            problems,
        )
    return order_event, line_events


def _commission(report: _Report, order_event: Event, line_events: list[Event]) -> Commission:
    if report.kind == EventKind.LEAD:
        return lead_commission(order_event)
    priced = [
        PricedLine(event, line.quantity, line.price, line.vat)
        for line, event in zip(report.products, line_events, strict=True)
    ]
    commission = transaction_commission(order_event, report.order_sum, report.vat_sum, priced)
    if commission.total > BIGINT_MAX:
        raise invalid({"products": ["the commission would exceed the largest storable amount"]})
    return commission


def _product_lines(
    conversion: Conversion,
    lines: tuple[LineInput, ...],
    events: list[Event],
    commission: Commission,
) -> list[ProductLine]:
    return [
        ProductLine(
            conversion=conversion,
            position=position,
            event=event,
            reference=line.reference,
            name=line.name,
            quantity=line.quantity,
            price=line.price,
            vat=line.vat,
            commission=result,
        )
        for position, (line, event, result) in enumerate(
            zip(lines, events, commission.line_results, strict=True)
        )
    ]


# --- Amending and deciding -----------------------------------------------------------------


def _line_record(line: ProductLine) -> dict[str, Any]:
    return {
        "event": str(line.event.uuid),
        "reference": line.reference,
        "name": line.name,
        "quantity": line.quantity,
        "price": line.price,
        "vat": line.vat,
        "commission": line.commission,
    }


def _refuse_unless_pending(conversion: Conversion) -> None:
    if conversion.status != ConversionStatus.PENDING:
        raise ConversionRefused(
            409,
            "conversion_not_pending",
            f"The conversion is already {conversion.status}; only a pending conversion "
            "can be changed.",
        )


def amend_transaction(conversion: Conversion, payload: Any, *, actor: str) -> Conversion:
    """Apply a store's PATCH to a pending transaction: new sums and/or lines, or a rejection.

    New lines replace the old ones; sums left out are kept, or taken from the new lines
    when lines are sent. The commission is recomputed at the events' current rates and
    the history records each changed field as [old, new]. A PATCH that changes nothing
    writes nothing.
    """
    data = parse_amendment(payload)
    if data.reject_reason is not None:
        return reject_conversion(conversion, actor=actor, reason=data.reject_reason)
    with transaction.atomic():
        locked = Conversion.objects.select_for_update().get(pk=conversion.pk)
        if locked.kind != EventKind.TRANSACTION:
            raise invalid({"body": ["a lead can only be rejected"]})
        _refuse_unless_pending(locked)
        old_lines = list(locked.lines.select_related("event").order_by("position"))
        order_event = Event.objects.get(pk=locked.event_id)

        if data.products is None:
            new_inputs = tuple(
                LineInput(
                    line.event.uuid, line.reference, line.name, line.quantity, line.price, line.vat
                )
                for line in old_lines
            )
        else:
            new_inputs = data.products
        order_sum, vat_sum = _amended_sums(locked, data.order_sum, data.vat_sum, data.products)
        check_lines_match_sums(new_inputs, order_sum, vat_sum)
        report = _Report(
            kind=EventKind.TRANSACTION,
            key=locked.order_number,
            event=order_event.uuid,
            click=None,
            currency=None,
            order_sum=order_sum,
            vat_sum=vat_sum,
            products=new_inputs,
            vouchers=(),
        )
        order_event, line_events = _events(locked.program, report)
        commission = _commission(report, order_event, line_events)
        new_lines = _product_lines(locked, new_inputs, line_events, commission)

        changes: dict[str, list[Any]] = {}
        for field, new in (
            ("order_sum", order_sum),
            ("vat_sum", vat_sum),
            ("commission", commission.total),
        ):
            old = getattr(locked, field)
            if old != new:
                changes[field] = [old, new]
        old_records = [_line_record(line) for line in old_lines]
        new_records = [_line_record(line) for line in new_lines]
        if old_records != new_records:
            changes["products"] = [old_records, new_records]
        if not changes:
            return conversions_with_relations().get(pk=locked.pk)

        locked.order_sum = order_sum
        locked.vat_sum = vat_sum
        locked.commission = commission.total
        locked.commission_breakdown = commission.breakdown
        locked.updated_at = timezone.now()
        locked.save(
            update_fields=[
                "order_sum",
                "vat_sum",
                "commission",
                "commission_breakdown",
                "updated_at",
            ]
        )
        if "products" in changes:
            ProductLine.objects.filter(conversion=locked).delete()
            ProductLine.objects.bulk_create(new_lines)
        change = record_change(locked, action=ChangeAction.AMENDED, actor=actor, changes=changes)
    return change.conversion


def _amended_sums(
    conversion: Conversion,
    order_sum: int | None,
    vat_sum: int | None,
    products: tuple[LineInput, ...] | None,
) -> tuple[int, int]:
    if products:
        if order_sum is None:
            order_sum = sum(line.quantity * line.price for line in products)
        if vat_sum is None:
            vat_sum = sum(line.quantity * line.vat for line in products)
    return (
        conversion.order_sum if order_sum is None else order_sum,
        conversion.vat_sum if vat_sum is None else vat_sum,
    )


def amend_lead(conversion: Conversion, payload: Any, *, actor: str) -> Conversion:
    """Apply a store's PATCH to a pending lead: only a rejection with a reason."""
    data = parse_lead_amendment(payload)
    return reject_conversion(conversion, actor=actor, reason=data.reject_reason)


def approve_conversion(conversion: Conversion, *, actor: str, reason: str = "") -> Conversion:
    """Approve a pending conversion; 409 `conversion_not_pending` otherwise."""
    return _decide(conversion, ConversionStatus.APPROVED, actor, _clean_reason(reason, False))


def reject_conversion(conversion: Conversion, *, actor: str, reason: str) -> Conversion:
    """Reject a pending conversion with a reason; 409 `conversion_not_pending` otherwise."""
    return _decide(conversion, ConversionStatus.REJECTED, actor, _clean_reason(reason, True))


def _clean_reason(reason: Any, required: bool) -> str:
    problem = None
    if not isinstance(reason, str):
        problem = "must be a string"
    else:
        reason = reason.strip()
        if required and not reason:
            problem = "is required to reject"
        elif len(reason) > REASON_MAX_LENGTH:
            problem = f"must be at most {REASON_MAX_LENGTH} characters"
        elif "\x00" in reason:
            problem = "must not contain NUL characters"
    if problem:
        raise invalid({"reason": [problem]})
    return reason


def _decide(conversion: Conversion, status: ConversionStatus, actor: str, reason: str):
    now = timezone.now()
    with transaction.atomic():
        # Conditional on still pending: of two racing decisions, exactly one applies.
        updated = Conversion.objects.filter(
            pk=conversion.pk, status=ConversionStatus.PENDING
        ).update(status=status, status_reason=reason, updated_at=now)
        if not updated:
            current = Conversion.objects.filter(pk=conversion.pk).values_list("status", flat=True)
            conversion.status = current.first() or conversion.status
            _refuse_unless_pending(conversion)
        conversion.status = status
        conversion.status_reason = reason
        conversion.updated_at = now
        action = (
            ChangeAction.APPROVED if status == ConversionStatus.APPROVED else ChangeAction.REJECTED
        )
        change = record_change(
            conversion,
            action=action,
            actor=actor,
            changes={"status": [ConversionStatus.PENDING.value, status.value]},
            reason=reason,
        )
    return change.conversion


def approve_due_conversions(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Approve every pending conversion whose program's validation period has passed.

    Each approval is its own short transaction and is conditional on the conversion still
    being pending, so the job can be rerun or run twice at once: a conversion is approved
    (and recorded) exactly once. Returns how many this run approved.
    """
    now = now or timezone.now()
    approved = 0
    for program in Program.objects.only("pk", "validation_days").order_by("pk"):
        cutoff = now - timedelta(days=program.validation_days)
        reason = f"Validation period of {program.validation_days} days passed."
        last_pk = 0
        while True:
            batch = list(
                Conversion.objects.filter(
                    program=program,
                    status=ConversionStatus.PENDING,
                    created_at__lte=cutoff,
                    pk__gt=last_pk,
                )
                .order_by("pk")
                .only("pk", "partner_id", "status")[:batch_size]
            )
            if not batch:
                break
            for conversion in batch:
                try:
                    _decide(conversion, ConversionStatus.APPROVED, AUTO_APPROVAL_ACTOR, reason)
                except ConversionRefused:
                    continue  # decided meanwhile by the store, an operator or another run
                approved += 1
            last_pk = batch[-1].pk
    return approved
