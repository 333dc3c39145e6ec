"""A store with one program, its events and a fresh click, as most conversion tests need."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clicks.models import Click
from partners.services import issue_partner_token
from stores.services import issue_store_token
from tests.conversions.helpers import Shop
from tests.factories import (
    ClickFactory,
    EventFactory,
    LeadEventFactory,
    PartnerFactory,
    ProgramFactory,
    StoreFactory,
)


@pytest.fixture
def shop(db) -> Shop:
    store = StoreFactory(name="Awesome Store")
    program = ProgramFactory(store=store, name="Awesome Store SE", currency="SEK")
    return Shop(
        store=store,
        program=program,
        shoes=EventFactory(program=program, name="Shoes", percent=Decimal("8")),
        socks=EventFactory(program=program, name="Socks", percent=Decimal("12.5")),
        gift_card=EventFactory(program=program, name="Gift card", percent=None, fixed_amount=500),
        newsletter=LeadEventFactory(program=program, name="Newsletter", fixed_amount=4000),
        click=ClickFactory(program=program, partner=PartnerFactory(name="Refunder SE")),
    )


@pytest.fixture
def store_secret(shop) -> str:
    """A fresh token of the shop's store."""
    _, secret = issue_store_token(shop.store, "checkout server")
    return secret


@pytest.fixture
def store_client(store_secret) -> APIClient:
    """An API client carrying a token of the shop's store."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {store_secret}")
    return client


@pytest.fixture
def claim_click(shop) -> Click:
    """The shop's partner's click on the shop's program, three days ago (claims file on it)."""
    return ClickFactory(
        program=shop.program,
        partner=shop.click.partner,
        created_at=timezone.now() - timedelta(days=3),
    )


@pytest.fixture
def partner_client(shop) -> APIClient:
    """An API client carrying a token of the shop's click's partner."""
    _, secret = issue_partner_token(shop.click.partner, name="claims")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client
