"""Money. Amounts are integers in minor units; this is the one place that rounds, and the one
that writes them for people."""

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


# ISO-4217 currencies whose minor unit is not a hundredth.
_NO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_MINOR_DIGITS = {
    **dict.fromkeys(_NO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
}


def format_money(amount: int | None, currency: str) -> str:
    """Minor units as a readable amount, e.g. 10100 SEK → '101.00 SEK' (no rounding happens)."""
    if amount is None:
        return "—"
    digits = _MINOR_DIGITS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**digits)
    # No-break spaces: an amount never wraps inside a narrow table cell.
    text = f"{whole:,}".replace(",", "\u00a0")
    if digits:
        text += f".{fraction:0{digits}d}"
    return f"{sign}{text}\u00a0{currency}"
