"""Shared test data for conversion tests: the shop and the contract's example payloads."""

from dataclasses import dataclass

from clicks.models import Click
from stores.models import Event, Program, Store


@dataclass
class Shop:
    store: Store
    program: Program
    shoes: Event  # 8 % of net
    socks: Event  # 12.5 % of net
    gift_card: Event  # 500 per unit
    newsletter: Event  # lead, 4000 fixed
    click: Click


def transaction_payload(shop: Shop, **overrides) -> dict:
    """The contract's worked example: order 692549563, 1625 incl. 325 VAT, two lines."""
    payload = {
        "event": str(shop.shoes.uuid),
        "click": str(shop.click.uuid),
        "orderNumber": "692549563",
        "orderSum": 1625,
        "vatSum": 325,
        "currency": "SEK",
        "products": [
            {
                "event": str(shop.shoes.uuid),
                "reference": "SKU-SHOE-42",
                "name": "Running shoe",
                "quantity": 1,
                "price": 1250,
                "vat": 250,
            },
            {
                "event": str(shop.socks.uuid),
                "reference": "SKU-SOCK",
                "name": "Sock",
                "quantity": 3,
                "price": 125,
                "vat": 25,
            },
        ],
        "voucher": "SUMMER10",
    }
    payload.update(overrides)
    return payload


def lead_payload(shop: Shop, **overrides) -> dict:
    payload = {
        "event": str(shop.newsletter.uuid),
        "click": str(shop.click.uuid),
        "reference": "member-1001",
    }
    payload.update(overrides)
    return payload
