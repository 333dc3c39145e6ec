import pytest

from retrack.lib.money import format_money


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (10100, "SEK", "101.00 SEK"),
        (162500000, "SEK", "1 625 000.00 SEK"),
        (5, "EUR", "0.05 EUR"),
        (0, "NOK", "0.00 NOK"),
        (1500, "JPY", "1 500 JPY"),
        (1234, "KWD", "1.234 KWD"),
        (-250, "SEK", "-2.50 SEK"),
        (None, "SEK", "—"),
    ],
)
def test_it_shows_minor_units_in_the_currencys_own_decimals(amount, currency, shown):
    assert format_money(amount, currency) == shown.replace(" ", "\xa0")
