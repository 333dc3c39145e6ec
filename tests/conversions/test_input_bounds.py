"""Amounts past what is stored, bidi control characters and huge refusals: 400, nothing kept."""

import json

import pytest

from conversions.models import Conversion, ConversionChange, ProductLine
from retrack.lib.validation import BIGINT_MAX, FIELDS_NAMED_MAX
from tests.shop import lead_payload, transaction_payload

pytestmark = pytest.mark.django_db

TRANSACTIONS = "/api/v2/transactions"
LEADS = "/api/v2/leads"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "1234" shows as "4321"
BIDI_MESSAGE = "must not contain bidirectional control characters (U+202A-202E, U+2066-2069)"


def _stored(store_client, shop) -> dict:
    response = store_client.post(TRANSACTIONS, transaction_payload(shop), format="json")
    assert response.status_code == 201
    return response.json()["data"]


def _state() -> tuple:
    conversion = Conversion.objects.get()
    lines = list(ProductLine.objects.values_list("quantity", "price", "vat").order_by("position"))
    return conversion.order_sum, conversion.vat_sum, conversion.commission, lines


def test_a_patch_whose_lines_add_up_past_the_largest_amount_is_refused(shop, store_client):
    # given a stored order, and two lines each within bounds whose sum is not
    document = _stored(store_client, shop)
    before = _state()
    line = {"event": str(shop.shoes.uuid), "quantity": 2, "price": BIGINT_MAX, "vat": 0}

    # when
    response = store_client.patch(
        f"{TRANSACTIONS}/{document['uuid']}", {"products": [line]}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "products": [
            f"the lines add up to more than {BIGINT_MAX}, the largest amount Retrack stores"
        ]
    }
    assert _state() == before
    assert ConversionChange.objects.count() == 1


def test_a_new_order_whose_lines_add_up_past_the_largest_amount_is_refused(shop, store_client):
    line = {"event": str(shop.shoes.uuid), "quantity": 2, "price": BIGINT_MAX, "vat": 0}
    payload = transaction_payload(shop, orderSum=BIGINT_MAX, vatSum=0, products=[line])

    response = store_client.post(TRANSACTIONS, payload, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["products"]
    assert not Conversion.objects.exists()


def test_the_largest_amount_itself_is_accepted(shop, store_client):
    payload = transaction_payload(shop, event=str(shop.gift_card.uuid), products=None)
    payload.update(orderSum=BIGINT_MAX, vatSum=BIGINT_MAX)

    response = store_client.post(TRANSACTIONS, payload, format="json")

    assert response.status_code == 201
    assert Conversion.objects.get().order_sum == BIGINT_MAX


@pytest.mark.parametrize(
    ("_case", "field", "path"),
    [
        ("order number", "orderNumber", "orderNumber"),
        ("voucher", "voucher", "voucher"),
        ("product reference", "products.0.reference", "products[0].reference"),
    ],
)
def test_bidi_control_characters_in_a_transaction_are_refused(
    shop, store_client, _case, field, path
):
    payload = transaction_payload(shop)
    if field.startswith("products"):
        payload["products"][0]["reference"] = f"SKU-{RLO}24-EOHS"
    else:
        payload[field] = f"69254{RLO}9563"

    response = store_client.post(TRANSACTIONS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {path: [BIDI_MESSAGE]}
    assert not Conversion.objects.exists()


@pytest.mark.parametrize("character", ["\u202a", "\u202e", "\u2066", "\u2069"])
def test_each_bidi_control_in_a_lead_reference_is_refused(shop, store_client, character):
    response = store_client.post(
        LEADS, lead_payload(shop, reference=f"member{character}1001"), format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"reference": [BIDI_MESSAGE]}
    assert not Conversion.objects.exists()


def test_a_rejection_reason_with_bidi_controls_is_refused(shop, store_client):
    document = _stored(store_client, shop)

    response = store_client.patch(
        f"{TRANSACTIONS}/{document['uuid']}",
        {"status": "rejected", "reason": f"Order {RLO}cancelled"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"reason": [BIDI_MESSAGE]}
    assert Conversion.objects.get().status == "pending"
    assert ConversionChange.objects.count() == 1


def test_a_refusal_of_thousands_of_unknown_fields_stays_small(shop, store_client):
    # given 386 KB of unknown fields
    payload = transaction_payload(shop)
    payload.update({f"unknown{index:06d}": 1 for index in range(20_000)})
    body = json.dumps(payload).encode()
    assert len(body) > 386_000

    # when
    response = store_client.generic("POST", TRANSACTIONS, body, content_type="application/json")

    # then the answer names the first fields and says how many more there are
    assert response.status_code == 400
    assert len(response.content) < 8_000
    error = response.json()["error"]
    assert len(error["fields"]) == FIELDS_NAMED_MAX
    assert error["fields"]["unknown000000"] == ["is not a known field"]
    assert error["message"].startswith(
        f"The request has 20000 invalid fields; the first {FIELDS_NAMED_MAX} are named: "
        "unknown000000, unknown000001,"
    )
    assert error["message"].endswith(f", and {20_000 - FIELDS_NAMED_MAX} more.")
    assert not Conversion.objects.exists()
