import pytest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIRequestFactory

from partners.services import issue_partner_token, revoke_partner_token
from retrack.api.authentication import BearerTokenAuthentication
from retrack.lib.tokens import hash_token
from stores.models import StoreToken
from stores.services import issue_store_token, revoke_store_token
from tests.factories import PartnerFactory, StoreFactory

pytestmark = pytest.mark.django_db


def authenticate(secret: str):
    request = APIRequestFactory().get("/api/v2/transactions", HTTP_AUTHORIZATION=f"Bearer {secret}")
    return BearerTokenAuthentication().authenticate(request)


def test_it_stores_only_the_hash_of_a_store_token():
    store = StoreFactory()

    token, secret = issue_store_token(store, name="checkout")

    stored = StoreToken.objects.get(pk=token.pk)
    assert len(secret) == 60
    assert secret.startswith("rts_")
    assert stored.key_hash == hash_token(secret)
    assert stored.prefix == secret[:12]
    stored_values = [str(value) for value in StoreToken.objects.values_list().get(pk=token.pk)]
    assert secret not in stored_values


def test_it_authenticates_a_store_token_as_its_store():
    store = StoreFactory()
    _, secret = issue_store_token(store)

    client, token = authenticate(secret)

    assert client.store == store
    assert client.partner is None
    assert token.last_used_at is None
    assert StoreToken.objects.get(pk=token.pk).last_used_at is not None


def test_it_authenticates_a_partner_token_as_its_partner():
    partner = PartnerFactory()
    _, secret = issue_partner_token(partner)

    client, _ = authenticate(secret)

    assert client.partner == partner
    assert client.store is None


def test_a_revoked_store_token_stops_working():
    token, secret = issue_store_token(StoreFactory())

    revoke_store_token(token)

    with pytest.raises(AuthenticationFailed):
        authenticate(secret)


def test_a_revoked_partner_token_stops_working():
    token, secret = issue_partner_token(PartnerFactory())

    revoke_partner_token(token)

    with pytest.raises(AuthenticationFailed):
        authenticate(secret)


def test_it_refuses_a_token_that_differs_in_one_character():
    _, secret = issue_store_token(StoreFactory())
    altered = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    with pytest.raises(AuthenticationFailed):
        authenticate(altered)
