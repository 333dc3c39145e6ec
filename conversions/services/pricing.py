"""What recording and amending share: the events a body names, the commission and the lines.

A report and an amendment both name an order event and line events, which must be events
of the conversion's program and of its kind; both price the result through the commission
engine's `CommissionBasis` and store it as `ProductLine` rows.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from conversions.commission import Commission, CommissionBasis, PricedLine, compute_commission
from conversions.models import Conversion, ProductLine
from conversions.payloads import BIGINT_MAX, LineInput
from conversions.refusals import ConversionRefused, invalid
from stores.models import Event, EventKind, Program
from stores.selectors import program_events


def resolve_events(
    program: Program,
    kind: EventKind,
    event_uuid: uuid.UUID,
    lines: Sequence[LineInput],
    found: Mapping[uuid.UUID, Event] | None = None,
) -> tuple[Event, list[Event]]:
    """The order event and each line's event, every one of `program` and of `kind`.

    `found` is `program`'s events among those named, when the caller has read them already
    (`reported_click`); otherwise they are read here. Refuses with 422 `event_invalid`,
    naming each unusable event's field.
    """
    if found is None:
        found = program_events(program, reported_events(event_uuid, lines))
    problems: dict[str, list[str]] = {}
    message = f"is not a {kind} event of the click's program"

    def usable(wanted_uuid) -> Event | None:
        event = found.get(wanted_uuid)
        return event if event is not None and event.kind == kind else None

    order_event = usable(event_uuid)
    if order_event is None:
        problems["event"] = [message]
    line_events: list[Event] = []
    for index, line in enumerate(lines):
        event = usable(line.event)
        if event is None:
            problems[f"products[{index}].event"] = [message]
        else:
            line_events.append(event)
    if problems:
        raise ConversionRefused(
            422,
            "event_invalid",
            f"Each event must be a {kind} event of the click's program.",
            problems,
        )
    return order_event, line_events


def reported_events(event_uuid: uuid.UUID, lines: Sequence[LineInput]) -> set[uuid.UUID]:
    """The UUIDs of the events a report or an amendment names: its own and its lines'."""
    return {event_uuid} | {line.event for line in lines}


def priced_lines(lines: Sequence[LineInput], events: Sequence[Event]) -> tuple[PricedLine, ...]:
    """The lines as the commission engine reads them, each with its resolved event."""
    return tuple(
        PricedLine(event, line.quantity, line.price, line.vat)
        for line, event in zip(lines, events, strict=True)
    )


def storable_commission(basis: CommissionBasis) -> Commission:
    """The commission of `basis`; 400 `invalid` if its total would not fit the column."""
    commission = compute_commission(basis)
    if commission.total > BIGINT_MAX:
        raise invalid({"products": ["the commission would exceed the largest storable amount"]})
    return commission


def product_lines(
    conversion: Conversion,
    lines: Sequence[LineInput],
    events: Sequence[Event],
    commission: Commission,
) -> list[ProductLine]:
    """The conversion's `ProductLine` rows, unsaved, in the order they were sent."""
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


def line_record(line: ProductLine) -> dict[str, Any]:
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
