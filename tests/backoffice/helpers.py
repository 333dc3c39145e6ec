"""Helpers shared by the back-office tests."""

import os
import uuid
from datetime import datetime

from retrack.lib.uuids import uuid7_floor


def uuid7_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 made at `moment`, as the click path would have made it then."""
    floor = uuid7_floor(int(moment.timestamp() * 1000))
    return uuid.UUID(int=floor.int | int.from_bytes(os.urandom(7), "big"))


def listed(response) -> list:
    """The objects on a changelist page, in the order shown."""
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def transaction_payload(click, shoes, socks, **overrides) -> dict:
    """Order 692549563: 1625 incl. 325 VAT, a shoe at 8 % and three socks at 12.5 %."""
    payload = {
        "event": str(shoes.uuid),
        "click": str(click.uuid),
        "orderNumber": "692549563",
        "orderSum": 1625,
        "vatSum": 325,
        "currency": "SEK",
        "products": [
            {
                "event": str(shoes.uuid),
                "reference": "SKU-SHOE-42",
                "name": "Running shoe",
                "quantity": 1,
                "price": 1250,
                "vat": 250,
            },
            {
                "event": str(socks.uuid),
                "reference": "SKU-SOCK",
                "name": "Sock",
                "quantity": 3,
                "price": 125,
                "vat": 25,
            },
        ],
    }
    payload.update(overrides)
    return payload
