"""The shop's store token and an API client carrying it, as most conversion tests need."""

import pytest
from rest_framework.test import APIClient

from stores.services import issue_store_token


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
