"""No cache keeps an API answer: they carry shoppers' IP addresses and partners' refs."""

import pytest

from conversions.models import Conversion
from tests.partners.helpers import client_for
from tests.shop import transaction_payload

pytestmark = pytest.mark.django_db


def test_a_store_api_answer_with_the_shoppers_address_is_no_store(shop, store_client):
    created = store_client.post("/api/v2/transactions", transaction_payload(shop), format="json")
    uuid = created.json()["data"]["uuid"]
    looked_up = store_client.get("/api/v2/transactions", {"byOrderNumber": "692549563"})
    read = store_client.get(f"/api/v2/transactions/{uuid}")

    assert created.json()["data"]["click"]["ip_address"] == shop.click.ip_address
    assert [created.status_code, looked_up.status_code, read.status_code] == [201, 200, 200]
    assert [created["Cache-Control"], looked_up["Cache-Control"], read["Cache-Control"]] == [
        "no-store",
        "no-store",
        "no-store",
    ]


def test_the_partner_feed_is_no_store(shop, store_client):
    store_client.post("/api/v2/transactions", transaction_payload(shop), format="json")

    response = client_for(shop.click.partner).get("/api/v2/partner/conversions")

    assert response.json()["data"][0]["click"]["ip_address"] == shop.click.ip_address
    assert response["Cache-Control"] == "no-store"


def test_an_api_refusal_is_no_store_too(shop, client):
    response = client.get("/api/v2/transactions", {"byOrderNumber": "692549563"})

    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"
    assert Conversion.objects.count() == 0


def test_the_public_api_document_may_be_cached(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert "Cache-Control" not in response
