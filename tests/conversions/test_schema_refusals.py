"""What the OpenAPI document forbids, the server refuses: the schema and the parser agree."""

import copy

import pytest

from conversions.api import docs
from conversions.models import Conversion
from retrack.lib.validation import BIGINT_MAX
from tests.shop import lead_payload, transaction_payload

pytestmark = pytest.mark.django_db


def _schema(document: dict, name: str) -> dict:
    return document["components"]["schemas"][name]


def _refused(response, field: str) -> None:
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Conversion.objects.exists()


@pytest.mark.parametrize(
    ("path", "payload"),
    [("/api/v2/transactions", transaction_payload), ("/api/v2/leads", lead_payload)],
)
def test_a_field_the_schema_does_not_declare_is_refused(
    openapi_document, shop, store_client, path, payload
):
    body_schema = _schema(
        openapi_document, "TransactionRequest" if "trans" in path else "LeadRequest"
    )
    body = payload(shop)
    undeclared = "discount"
    assert undeclared not in body_schema["properties"]

    _refused(store_client.post(path, {**body, undeclared: 100}, format="json"), undeclared)


def test_a_product_line_field_the_schema_does_not_declare_is_refused(
    openapi_document, shop, store_client
):
    line_schema = _schema(openapi_document, "ProductLineRequest")
    body = transaction_payload(shop)
    body["products"][1]["colour"] = "red"
    assert "colour" not in line_schema["properties"]

    response = store_client.post("/api/v2/transactions", body, format="json")

    _refused(response, "products[1].colour")


@pytest.mark.parametrize("field", ["orderSum", "vatSum"])
def test_an_amount_past_the_schemas_maximum_is_refused(openapi_document, shop, store_client, field):
    maximum = _schema(openapi_document, "TransactionRequest")["properties"][field]
    body = transaction_payload(shop, products=None, orderSum=BIGINT_MAX, vatSum=0)

    body[field] = maximum["maximum"] + 1

    _refused(store_client.post("/api/v2/transactions", body, format="json"), field)


def test_more_lines_than_the_schema_allows_are_refused(openapi_document, shop, store_client):
    limit = _schema(openapi_document, "TransactionRequest")["properties"]["products"]
    line = {"event": str(shop.shoes.uuid), "quantity": 1, "price": 0, "vat": 0}
    body = transaction_payload(shop, orderSum=0, vatSum=0)
    body["products"] = [copy.deepcopy(line) for _ in range(limit["maxItems"] + 1)]

    _refused(store_client.post("/api/v2/transactions", body, format="json"), "products")


def test_a_body_the_patch_schema_forbids_is_refused(openapi_document, shop, store_client):
    stored = store_client.post("/api/v2/transactions", transaction_payload(shop), format="json")
    url = f"/api/v2/transactions/{stored.json()['data']['uuid']}"
    rejection = _schema(openapi_document, "TransactionRejection")

    mixed = store_client.patch(url, {**docs.PARTIAL_RETURN, "status": "rejected"}, format="json")
    empty = store_client.patch(url, {}, format="json")

    assert "products" not in rejection["properties"]
    assert mixed.status_code == 400
    assert mixed.json()["error"]["fields"] == {
        "products": ["cannot be changed in the same request as a rejection"],
        "reason": ["is required"],
    }
    assert empty.status_code == 400
    assert empty.json()["error"]["fields"] == {
        "body": ["send orderSum, vatSum and/or products, or status 'rejected' and reason"]
    }
    assert Conversion.objects.get().status == "pending"
    assert Conversion.objects.get().order_sum == 1625
