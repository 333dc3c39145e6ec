"""The shop most tests need (the `shop` fixture) and the worked example order on it."""

import copy
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from clicks.models import Click
from conversions.api import examples
from stores.models import Event, Program, Store
from tests.factories import (
    ClickFactory,
    EventFactory,
    LeadEventFactory,
    PartnerFactory,
    ProgramFactory,
    StoreFactory,
)


@dataclass
class Shop:
    store: Store
    program: Program  # SEK, on www.store.example
    shoes: Event  # 8 % of net
    socks: Event  # 12.5 % of net
    gift_card: Event  # 500 per unit
    newsletter: Event  # lead, 4000 fixed
    click: Click  # Refunder SE's, ref r-77


def create_shop() -> Shop:
    """Awesome Store's Swedish program with its events, and a click from Refunder SE."""
    store = StoreFactory(name="Awesome Store")
    program = ProgramFactory(
        store=store, name="Awesome Store SE", currency="SEK", allowed_domains=["store.example"]
    )
    return Shop(
        store=store,
        program=program,
        shoes=EventFactory(program=program, name="Shoes", percent=Decimal("8")),
        socks=EventFactory(program=program, name="Socks", percent=Decimal("12.5")),
        gift_card=EventFactory(program=program, name="Gift card", percent=None, fixed_amount=500),
        newsletter=LeadEventFactory(program=program, name="Newsletter", fixed_amount=4000),
        click=ClickFactory(program=program, partner=PartnerFactory(name="Refunder SE"), ref="r-77"),
    )


def worked_example(click: UUID | str, shoes: UUID | str, socks: UUID | str, /, **overrides) -> dict:
    """The worked example the README and the OpenAPI document show (order 692549563: 16.25 SEK
    incl. 3.25 VAT, a running shoe on the `shoes` event and three socks on the `socks` event),
    on the given click and events; `overrides` replace its fields."""
    payload = copy.deepcopy(examples.TRANSACTION_BODY)
    events = {examples.SHOES: str(shoes), examples.SOCKS: str(socks)}
    payload["click"] = str(click)
    payload["event"] = events[payload["event"]]
    for line in payload["products"]:
        line["event"] = events[line["event"]]
    payload.update(overrides)
    return payload


def transaction_payload(shop: Shop, **overrides) -> dict:
    """The worked example on the shop's events and click, as its store's server sends it."""
    return worked_example(shop.click.uuid, shop.shoes.uuid, shop.socks.uuid, **overrides)


def lead_payload(shop: Shop, **overrides) -> dict:
    """A newsletter sign-up, member-1001, on the shop's click."""
    payload = {
        "event": str(shop.newsletter.uuid),
        "click": str(shop.click.uuid),
        "reference": "member-1001",
    }
    payload.update(overrides)
    return payload
