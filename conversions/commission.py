"""The commission engine (contract section 5).

- A product line earns at its own event: a percentage of its net amount
  (quantity × (price − vat)), or a fixed amount per unit (quantity × fixed).
- A transaction without lines earns at the order's event: a percentage of
  orderSum − vatSum, or the fixed amount once.
- A lead earns its event's fixed amount (a percentage of a lead has no base: 0).
- Rounding: half up to the minor unit, once per line (`retrack.lib.money.percent_of`).

Each conversion keeps how its commission was computed, one entry per line (or one for
the order or lead): `line` (index into products, or None), `event` (uuid and name),
`method`, `base`, `rate` (a decimal string: percent, or minor units per unit) and
`result`.
"""

from dataclasses import dataclass
from typing import Any

from retrack.lib.money import percent_of
from stores.models import Event, EventKind

PERCENT_OF_NET = "percent_of_net"
FIXED_PER_UNIT = "fixed_per_unit"
FIXED_PER_CONVERSION = "fixed_per_conversion"


@dataclass(frozen=True)
class PricedLine:
    event: Event
    quantity: int
    price: int
    vat: int


@dataclass(frozen=True)
class CommissionBasis:
    """What a conversion's commission is computed from, whether it is created or amended.

    `event` is the conversion's own event; a lead has no sums and no lines.
    """

    kind: EventKind
    event: Event
    order_sum: int = 0
    vat_sum: int = 0
    lines: tuple[PricedLine, ...] = ()


@dataclass(frozen=True)
class Commission:
    total: int
    line_results: tuple[int, ...]
    breakdown: list[dict[str, Any]]


def _percent_text(event: Event) -> str:
    return f"{event.percent.normalize():f}"


def _entry(line: int | None, event: Event, method: str, base: int, rate: str, result: int):
    return {
        "line": line,
        "event": {"uuid": str(event.uuid), "name": event.name},
        "method": method,
        "base": base,
        "rate": rate,
        "result": result,
    }


def _line_entry(index: int, line: PricedLine) -> dict[str, Any]:
    event = line.event
    if event.percent is not None:
        base = line.quantity * (line.price - line.vat)
        return _entry(
            index,
            event,
            PERCENT_OF_NET,
            base,
            _percent_text(event),
            percent_of(base, event.percent),
        )
    rate = event.fixed_amount
    return _entry(index, event, FIXED_PER_UNIT, line.quantity, str(rate), line.quantity * rate)


def _order_entry(event: Event, net: int) -> dict[str, Any]:
    if event.percent is not None:
        return _entry(
            None, event, PERCENT_OF_NET, net, _percent_text(event), percent_of(net, event.percent)
        )
    rate = event.fixed_amount
    return _entry(None, event, FIXED_PER_CONVERSION, 1, str(rate), rate)


def compute_commission(basis: CommissionBasis) -> Commission:
    """The commission of a created or amended conversion.

    A transaction earns the sum of its lines, or at its order's event if it has no lines; a
    lead earns its event's fixed amount (a percentage of a lead has no base: 0).
    """
    if basis.kind == EventKind.TRANSACTION and basis.lines:
        breakdown = [_line_entry(index, line) for index, line in enumerate(basis.lines)]
        results = tuple(entry["result"] for entry in breakdown)
        return Commission(sum(results), results, breakdown)
    net = basis.order_sum - basis.vat_sum if basis.kind == EventKind.TRANSACTION else 0
    entry = _order_entry(basis.event, net)
    return Commission(entry["result"], (), [entry])
