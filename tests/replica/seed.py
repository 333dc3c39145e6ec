"""A shop on the replica tests' primary, made by `python -m tests.replica.seed`.

Run in a process of its own with the primary as DATABASE_URL (the test process's own
connection is to the ordinary test database); prints what the tests call the server with,
as JSON: the store's and the partner's tokens, an operator's session, and the shop's ids.
"""

import json
import uuid
from decimal import Decimal

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from partners.services import issue_partner_token  # noqa: E402
from stores.services import issue_store_token  # noqa: E402
from tests.factories import (  # noqa: E402
    AdmissionFactory,
    ClickFactory,
    EventFactory,
    PartnerFactory,
    ProgramFactory,
    StoreFactory,
)


def seed() -> dict:
    """tests/shop.py's shop, under names of its own: every test of a run adds one."""
    label = uuid.uuid4().hex[:8]
    store = StoreFactory(name=f"Awesome Store {label}")
    program = ProgramFactory(
        store=store,
        name=f"Awesome Store SE {label}",
        currency="SEK",
        allowed_domains=["store.example"],
    )
    shoes = EventFactory(program=program, name="Shoes", percent=Decimal("8"))
    socks = EventFactory(program=program, name="Socks", percent=Decimal("12.5"))
    partner = PartnerFactory(name=f"Refunder SE {label}")
    AdmissionFactory(program=program, partner=partner)
    click = ClickFactory(program=program, partner=partner, ref="r-77")
    _, store_token = issue_store_token(store, name="replica tests")
    _, partner_token = issue_partner_token(partner, name="replica tests")
    operator = get_user_model().objects.create_superuser(
        username=f"operator-{label}", email="", password=None
    )
    browser = Client()
    browser.force_login(operator)
    return {
        "store_token": store_token,
        "partner_token": partner_token,
        "session": browser.cookies["sessionid"].value,
        "program": program.pk,
        "partner": partner.pk,
        "click": str(click.uuid),
        "shoes": str(shoes.uuid),
        "socks": str(socks.uuid),
    }


if __name__ == "__main__":
    print(json.dumps(seed()))
