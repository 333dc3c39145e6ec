"""Money arithmetic. Amounts are integers in minor units; this is the one place that rounds."""

from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


def percent_of(amount: int, percent: Decimal) -> int:
    """`percent` % of `amount` minor units, rounded half up to a whole minor unit."""
    return int((Decimal(amount) * percent / HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def average_of(total: int, count: int) -> int | None:
    """`total` minor units shared over `count` (orders, clicks), rounded half up; None for 0."""
    if not count:
        return None
    return int((Decimal(total) / Decimal(count)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
