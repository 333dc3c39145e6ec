import pytest
from rest_framework.test import APIClient

from conversions.models import Conversion
from conversions.services import record_conversion
from partners.services import issue_partner_token
from stores.models import EventKind, StoreToken
from stores.services import issue_store_token, revoke_store_token
from tests.factories import (
    ClickFactory,
    ConversionFactory,
    EventFactory,
    PartnerFactory,
    ProgramFactory,
    StoreFactory,
)
from tests.shop import transaction_payload

pytestmark = pytest.mark.django_db

URL = "/api/v2/transactions"


def _client(secret: str | None) -> APIClient:
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.mark.parametrize(
    ("_case", "secret"),
    [
        ("no token", None),
        ("unknown store token", "rts_" + "x" * 56),
        ("not a token", "hunter2"),
    ],
)
def test_a_call_without_a_valid_token_answers_401(shop, _case, secret):
    response = _client(secret).post(URL, transaction_payload(shop), format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="retrack"'
    assert response.json()["error"]["code"] == "not_authenticated"
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert not Conversion.objects.exists()


def test_a_revoked_token_answers_401(shop):
    token, secret = issue_store_token(shop.store)
    revoke_store_token(token)

    response = _client(secret).post(URL, transaction_payload(shop), format="json")

    assert response.status_code == 401
    assert not Conversion.objects.exists()


def test_a_token_revoked_between_two_calls_is_refused_at_once(shop):
    token, secret = issue_store_token(shop.store)
    client = _client(secret)
    accepted = client.post(URL, transaction_payload(shop), format="json")

    revoke_store_token(token)
    refused = client.post(URL, transaction_payload(shop, orderNumber="692549564"), format="json")

    assert accepted.status_code == 201
    assert refused.status_code == 401
    assert list(Conversion.objects.values_list("order_number", flat=True)) == ["692549563"]


def test_a_partner_token_answers_403(shop):
    _, secret = issue_partner_token(PartnerFactory())

    response = _client(secret).post(URL, transaction_payload(shop), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Conversion.objects.exists()


def test_another_stores_conversion_is_not_found(shop, store_client):
    foreign = ConversionFactory(order_number="692549563")

    get = store_client.get(f"{URL}/{foreign.uuid}")
    patch = store_client.patch(
        f"{URL}/{foreign.uuid}", {"status": "rejected", "reason": "Mine now"}, format="json"
    )
    lookup = store_client.get(URL, {"byOrderNumber": "692549563"})

    assert [get.status_code, patch.status_code, lookup.status_code] == [404, 404, 404]
    assert get.json() == patch.json() == lookup.json()
    foreign.refresh_from_db()
    assert foreign.status == "pending"
    assert not foreign.changes.exists()


def test_another_stores_click_is_refused(shop, store_client):
    response = store_client.post(
        URL, transaction_payload(shop, click=str(ClickFactory().uuid)), format="json"
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "click_not_yours"
    assert not Conversion.objects.exists()


def test_a_lookup_across_two_programs_of_the_store_names_the_program(shop, store_client):
    # given the same order number in both of the store's programs
    record_conversion(
        EventKind.TRANSACTION, transaction_payload(shop), source="api", store=shop.store
    )
    norway = ProgramFactory(store=shop.store, currency="NOK")
    norway_event = EventFactory(program=norway)
    norway_click = ClickFactory(program=norway)
    payload = transaction_payload(
        shop, click=str(norway_click.uuid), event=str(norway_event.uuid), currency="NOK"
    )
    del payload["products"]
    record_conversion(EventKind.TRANSACTION, payload, source="api", store=shop.store)

    ambiguous = store_client.get(URL, {"byOrderNumber": "692549563"})
    named = store_client.get(URL, {"byOrderNumber": "692549563", "program": str(norway.uuid)})

    assert ambiguous.status_code == 400
    assert ambiguous.json()["error"]["code"] == "ambiguous"
    assert named.status_code == 200
    assert named.json()["data"]["currency"] == "NOK"


def test_a_token_of_another_store_sees_nothing_of_this_one(shop, store_client):
    created = store_client.post(URL, transaction_payload(shop), format="json").json()["data"]
    _, other_secret = issue_store_token(StoreFactory())

    response = _client(other_secret).get(f"{URL}/{created['uuid']}")

    assert response.status_code == 404
    assert StoreToken.objects.count() == 2
