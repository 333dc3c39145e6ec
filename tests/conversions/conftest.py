"""The shop's store token, its partner's token and API clients carrying them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clicks.models import Click
from partners.services import issue_partner_token
from stores.services import issue_store_token
from tests.factories import ClickFactory


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
