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
