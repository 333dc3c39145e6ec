"""Template filters of the back office."""

from django import template

from retrack.lib.money import format_money

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """Minor units as a readable amount: {{ 10100|money:"SEK" }} → 101.00 SEK."""
    return format_money(amount, currency)


@register.filter
def rate(value) -> str:
    """A conversion rate in percent, or a dash without clicks."""
    return "—" if value is None else f"{value} %"


@register.filter
def moneys(amounts: dict[str, int]) -> str:
    """Amounts per currency, e.g. {"SEK": 10100, "EUR": 500} → '5.00 EUR · 101.00 SEK'."""
    if not amounts:
        return "—"
    return " · ".join(format_money(amounts[currency], currency) for currency in sorted(amounts))


@register.filter
def commission(totals, status: str) -> str:
    """A dashboard row's commission in one status, per currency."""
    return moneys(totals.commission_in(status))


@register.filter
def change(value) -> str:
    """A change against the previous period: '+12.5 %', '−3.0 %', or a dash."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "\u2212" if value < 0 else "±"
    return f"{sign}{abs(value)}\u00a0%"


@register.filter
def change_class(value) -> str:
    if value is None or value == 0:
        return ""
    return "change-up" if value > 0 else "change-down"


@register.filter
def row_change(row, figure: str) -> str:
    return change(row.change(figure))


@register.filter
def row_change_class(row, figure: str) -> str:
    return change_class(row.change(figure))
