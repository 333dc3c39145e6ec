import pytest

from conversions.models import Conversion, ConversionChange
from tests.shop import lead_payload

pytestmark = pytest.mark.django_db

URL = "/api/v2/leads"


def test_it_creates_a_lead_with_its_fixed_commission(shop, store_client):
    response = store_client.post(URL, lead_payload(shop, voucher="WELCOME"), format="json")

    assert response.status_code == 201
    data = response.json()["data"]
    assert (data["kind"], data["reference"], data["commission"]) == ("lead", "member-1001", 4000)
    assert data["vouchers"] == ["WELCOME"]
    assert data["event"] == {"uuid": str(shop.newsletter.uuid), "name": "Newsletter"}
    assert "order_number" not in data
    assert response["Location"] == f"{URL}/{data['uuid']}"


def test_a_lead_replay_answers_200_and_a_change_409(shop, store_client):
    first = store_client.post(URL, lead_payload(shop), format="json")

    replay = store_client.post(URL, lead_payload(shop), format="json")
    changed = store_client.post(URL, lead_payload(shop, voucher="OTHER"), format="json")

    assert (first.status_code, replay.status_code, changed.status_code) == (201, 200, 409)
    assert replay.json() == first.json()
    assert changed.json()["error"]["code"] == "duplicate_conflict"
    assert (
        f"PATCH /api/v2/leads/{first.json()['data']['uuid']}"
        in (changed.json()["error"]["message"])
    )
    assert Conversion.objects.count() == 1


def test_it_looks_a_lead_up_by_reference(shop, store_client):
    created = store_client.post(URL, lead_payload(shop), format="json").json()

    found = store_client.get(URL, {"byReference": "member-1001"})
    missing = store_client.get(URL, {"byReference": "member-1"})

    assert found.status_code == 200
    assert found.json() == created
    assert missing.status_code == 404


def test_a_lead_is_rejected_with_a_reason(shop, store_client):
    uuid = store_client.post(URL, lead_payload(shop), format="json").json()["data"]["uuid"]

    response = store_client.patch(
        f"{URL}/{uuid}", {"status": "rejected", "reason": "Fake sign-up"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["data"]["status"], response.json()["data"]["reason"]) == (
        "rejected",
        "Fake sign-up",
    )
    assert list(ConversionChange.objects.values_list("action", "actor")) == [
        ("created", "store:Awesome Store"),
        ("rejected", "store:Awesome Store"),
    ]


def test_a_lead_rejection_without_a_reason_is_refused(shop, store_client):
    uuid = store_client.post(URL, lead_payload(shop), format="json").json()["data"]["uuid"]

    response = store_client.patch(f"{URL}/{uuid}", {"status": "rejected"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"reason": ["is required"]}
    assert Conversion.objects.get().status == "pending"
    assert ConversionChange.objects.count() == 1


def test_a_lead_with_a_transaction_event_is_refused(shop, store_client):
    response = store_client.post(URL, lead_payload(shop, event=str(shop.shoes.uuid)), format="json")

    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "event_invalid",
        "message": "Each event must be a lead event of the click's program.",
        "fields": {"event": ["is not a lead event of the click's program"]},
    }
    assert not Conversion.objects.exists()
