from decimal import Decimal

import pytest
from django.test.utils import override_script_prefix

from conversions.models import Conversion, ConversionChange
from stores.services import save_event
from tests.shop import transaction_payload

pytestmark = pytest.mark.django_db

URL = "/api/v2/transactions"


def _post(client, payload, **headers):
    return client.post(URL, payload, format="json", headers=headers)


def test_the_location_of_a_created_transaction_carries_the_path_retrack_is_served_under(
    shop, store_client
):
    payload = transaction_payload(shop)
    with override_script_prefix("/retrack/"):
        mounted = _post(store_client, payload)
    payload["orderNumber"] = "692549564"
    at_root = _post(store_client, payload)

    first, second = Conversion.objects.order_by("id")
    assert mounted["Location"] == f"/retrack/api/v2/transactions/{first.uuid}"
    assert at_root["Location"] == f"/api/v2/transactions/{second.uuid}"


def test_it_creates_a_transaction_and_answers_the_stored_record(shop, store_client):
    response = _post(store_client, transaction_payload(shop))

    assert response.status_code == 201
    data = response.json()["data"]
    conversion = Conversion.objects.get()
    assert response["Location"] == f"/api/v2/transactions/{conversion.uuid}"
    assert data["uuid"] == str(conversion.uuid)
    assert data["kind"] == "transaction"
    assert data["status"] == "pending"
    assert data["order_number"] == "692549563"
    assert (data["order_sum"], data["vat_sum"], data["commission"]) == (1625, 325, 118)
    assert data["currency"] == "SEK"
    assert data["vouchers"] == ["SUMMER10"]
    assert data["source"] == "api"
    assert data["event"] == {"uuid": str(shop.shoes.uuid), "name": "Shoes"}
    assert [line["commission"] for line in data["products"]] == [80, 38]
    assert [entry["result"] for entry in data["commission_breakdown"]] == [80, 38]
    assert data["click"]["uuid"] == str(shop.click.uuid)
    assert data["click"]["ref"] == shop.click.ref
    assert data["publisher"]["name"] == "Refunder SE"
    assert data["advertiser"] == {"uuid": str(shop.store.uuid), "name": "Awesome Store"}
    assert data["program"] == {"uuid": str(shop.program.uuid), "name": "Awesome Store SE"}
    assert "reference" not in data


def test_a_replay_answers_200_with_the_same_record(shop, store_client):
    first = _post(store_client, transaction_payload(shop))

    again = _post(store_client, transaction_payload(shop))

    assert again.status_code == 200
    assert again.json() == first.json()
    assert Conversion.objects.count() == 1


def test_a_different_report_for_the_order_number_answers_409_naming_the_patch_call(
    shop, store_client
):
    first = _post(store_client, transaction_payload(shop)).json()["data"]

    response = _post(store_client, transaction_payload(shop, voucher="OTHER"))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate_conflict"
    assert f"PATCH /api/v2/transactions/{first['uuid']}" in error["message"]
    assert Conversion.objects.get().vouchers == ["SUMMER10"]


def test_an_idempotency_key_replays_and_refuses_reuse(shop, store_client):
    first = _post(store_client, transaction_payload(shop), **{"Idempotency-Key": "k-1"})
    replay = _post(store_client, transaction_payload(shop), **{"Idempotency-Key": "k-1"})
    reuse = _post(
        store_client,
        transaction_payload(shop, orderNumber="692549564"),
        **{"Idempotency-Key": "k-1"},
    )

    assert (first.status_code, replay.status_code, reuse.status_code) == (201, 200, 409)
    assert replay.json() == first.json()
    assert reuse.json()["error"]["code"] == "idempotency_key_conflict"
    assert Conversion.objects.count() == 1


def test_it_names_every_bad_field_and_stores_nothing(shop, store_client):
    payload = transaction_payload(shop, orderSum="1625", currency="kr", colour="red")
    payload["products"][1]["quantity"] = 0
    del payload["click"]

    response = _post(store_client, payload)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {
        "colour": ["is not a known field"],
        "click": ["is required"],
        "orderSum": ["must be an integer (minor units)"],
        "currency": ["must be a three-letter ISO-4217 code in capitals, e.g. SEK"],
        "products[1].quantity": ["must be at least 1"],
    }
    assert not Conversion.objects.exists()


@pytest.mark.parametrize(
    ("_case", "overrides", "code"),
    [
        ("unknown click", {"click": "0190d7a6-3b3c-7000-8000-000000000000"}, "click_not_found"),
        ("lead event", {"event": "newsletter"}, "event_invalid"),
        ("other currency", {"currency": "NOK"}, "currency_mismatch"),
    ],
)
def test_attribution_refusals_answer_422(shop, store_client, _case, overrides, code):
    if overrides.get("event") == "newsletter":
        overrides = {"event": str(shop.newsletter.uuid)}

    response = _post(store_client, transaction_payload(shop, **overrides))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    assert not Conversion.objects.exists()


def test_it_looks_a_transaction_up_by_order_number(shop, store_client):
    created = _post(store_client, transaction_payload(shop)).json()

    response = store_client.get(URL, {"byOrderNumber": "692549563"})
    missing = store_client.get(URL, {"byOrderNumber": "1"})

    assert response.status_code == 200
    assert response.json() == created
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_a_lookup_without_an_order_number_is_refused(store_client):
    response = store_client.get(URL)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"byOrderNumber": ["is required"]}


def test_it_gets_one_transaction(shop, store_client):
    created = _post(store_client, transaction_payload(shop)).json()

    response = store_client.get(f"{URL}/{created['data']['uuid']}")

    assert response.status_code == 200
    assert response.json() == created


def test_a_partial_return_through_patch(shop, store_client):
    uuid = _post(store_client, transaction_payload(shop)).json()["data"]["uuid"]
    products = transaction_payload(shop)["products"]
    products[1]["quantity"] = 1

    response = store_client.patch(f"{URL}/{uuid}", {"products": products}, format="json")

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["order_sum"], data["vat_sum"], data["commission"]) == (1375, 275, 93)
    change = ConversionChange.objects.order_by("id").last()
    assert (change.action, change.actor) == ("amended", "store:Awesome Store")
    assert change.changes["commission"] == [118, 93]


def test_a_rejection_through_patch_and_then_409(shop, store_client):
    uuid = _post(store_client, transaction_payload(shop)).json()["data"]["uuid"]

    rejected = store_client.patch(
        f"{URL}/{uuid}", {"status": "rejected", "reason": "Order cancelled"}, format="json"
    )
    again = store_client.patch(f"{URL}/{uuid}", {"orderSum": 1625}, format="json")

    assert rejected.status_code == 200
    assert (rejected.json()["data"]["status"], rejected.json()["data"]["reason"]) == (
        "rejected",
        "Order cancelled",
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conversion_not_pending"
    assert ConversionChange.objects.count() == 2


def test_a_store_cannot_approve_through_patch(shop, store_client):
    uuid = _post(store_client, transaction_payload(shop)).json()["data"]["uuid"]

    response = store_client.patch(f"{URL}/{uuid}", {"status": "approved"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["status"]
    assert Conversion.objects.get().status == "pending"


def test_a_lead_is_not_found_at_the_transactions_address(shop, store_client):
    lead = store_client.post(
        "/api/v2/leads",
        {"event": str(shop.newsletter.uuid), "click": str(shop.click.uuid), "reference": "m-1"},
        format="json",
    ).json()["data"]

    response = store_client.get(f"{URL}/{lead['uuid']}")

    assert response.status_code == 404


def test_creating_a_transaction_takes_a_fixed_number_of_queries(
    shop, store_client, django_assert_max_num_queries
):
    # token (and its last-used stamp, once a minute), the click with its program's events
    # named (one statement), then in one transaction (a savepoint here): the click's lock
    # and its conversions of the day (flags), conversion, lines, change counter, change, the
    # partner's webhook endpoints (none here, so no delivery rows); then the report log's
    # INSERT. No re-reads. (13 since the events joined the click's read: 14 before.)
    with django_assert_max_num_queries(13):
        response = _post(store_client, transaction_payload(shop))

    assert response.status_code == 201


def test_a_changed_rate_prices_the_very_next_report(shop, store_client):
    first = _post(store_client, transaction_payload(shop))
    save_event(
        shop.program, name="Shoes", kind="transaction", percent=Decimal("10"), fixed_amount=None
    )

    second = _post(store_client, transaction_payload(shop, orderNumber="692549564"))

    # The shoe's line: net 1000, at 8 % then at 10 %; the socks' line is unchanged.
    assert first.status_code == 201
    assert second.status_code == 201
    assert [line["commission"] for line in first.json()["data"]["products"]] == [80, 38]
    assert [line["commission"] for line in second.json()["data"]["products"]] == [100, 38]
