"""The tag's example reports (as the snippets show them) on the `shop` fixture's program."""

from tests.shop import Shop

STORE_PAGE = "https://www.store.example"


def transaction_report(shop: Shop, **overrides) -> dict:
    """The tag's body for an order of 250.00 SEK: a shoe at 8 % and two socks at 12.5 %."""
    report = {
        "kind": "transaction",
        "click": str(shop.click.uuid),
        "event": str(shop.shoes.uuid),
        "orderNumber": "100234",
        "orderSum": 25000,
        "vatSum": 5000,
        "currency": "SEK",
        "products": [
            {
                "event": str(shop.shoes.uuid),
                "reference": "SKU-1",
                "name": "Running shoe",
                "quantity": 1,
                "price": 15000,
                "vat": 3000,
            },
            {
                "event": str(shop.socks.uuid),
                "reference": "SKU-2",
                "name": "Sport socks",
                "quantity": 2,
                "price": 5000,
                "vat": 1000,
            },
        ],
    }
    report.update(overrides)
    return report


def lead_report(shop: Shop, **overrides) -> dict:
    report = {
        "kind": "lead",
        "click": str(shop.click.uuid),
        "event": str(shop.newsletter.uuid),
        "reference": "signup-5521",
    }
    report.update(overrides)
    return report
