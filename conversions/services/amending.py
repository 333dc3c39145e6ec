"""Amending a pending conversion on the store's PATCH: new sums and lines, or a rejection."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from conversions.commission import CommissionBasis
from conversions.models import ChangeAction, Conversion, ProductLine
from conversions.payloads import (
    LineInput,
    check_lines_match_sums,
    parse_amendment,
    parse_lead_amendment,
)
from conversions.refusals import invalid
from conversions.selectors import conversions_with_relations
from conversions.services.decisions import refuse_unless_pending, reject_conversion
from conversions.services.history import record_change
from conversions.services.pricing import (
    priced_lines,
    product_lines,
    resolve_events,
    storable_commission,
)
from stores.models import Event, EventKind


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
        refuse_unless_pending(locked)
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
        order_event, line_events = resolve_events(
            locked.program, EventKind.TRANSACTION, order_event.uuid, new_inputs
        )
        commission = storable_commission(
            CommissionBasis(
                kind=EventKind.TRANSACTION,
                event=order_event,
                order_sum=order_sum,
                vat_sum=vat_sum,
                lines=priced_lines(new_inputs, line_events),
            )
        )
        new_lines = product_lines(locked, new_inputs, line_events, commission)

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


def amend_lead(conversion: Conversion, payload: Any, *, actor: str) -> Conversion:
    """Apply a store's PATCH to a pending lead: only a rejection with a reason."""
    data = parse_lead_amendment(payload)
    return reject_conversion(conversion, actor=actor, reason=data.reject_reason)


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


def _line_record(line: ProductLine) -> dict[str, Any]:
    """A product line as the history's `products` change records it."""
    return {
        "event": str(line.event.uuid),
        "reference": line.reference,
        "name": line.name,
        "quantity": line.quantity,
        "price": line.price,
        "vat": line.vat,
        "commission": line.commission,
    }
