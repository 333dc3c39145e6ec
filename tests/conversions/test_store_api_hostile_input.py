"""No input may cause a 500: every bad request answers the contract's error shape."""

import io
import json

import pytest
from django.conf import settings

from conversions.models import Conversion, ConversionChange
from retrack.api.errors import ApiError
from retrack.api.parsers import JSONParser
from tests.shop import transaction_payload

pytestmark = pytest.mark.django_db

URL = "/api/v2/transactions"


def _raw(client, body: bytes, content_type: str = "application/json", method: str = "POST"):
    return client.generic(method, URL, data=body, content_type=content_type)


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def _nothing_stored() -> bool:
    return not Conversion.objects.exists() and not ConversionChange.objects.exists()


@pytest.mark.parametrize(
    ("_case", "body"),
    [
        ("truncated", b'{"orderNumber": "6925'),
        ("not json", b"orderNumber=692549563"),
        ("invalid utf-8", b'{"orderNumber": "\xff\xfe"}'),
        ("nan", b'{"orderSum": NaN}'),
        ("infinity", b'{"orderSum": Infinity}'),
        ("5000-digit integer", b'{"orderSum": ' + b"9" * 5000 + b"}"),
    ],
)
def test_a_body_that_is_not_json_is_refused(store_client, _case, body):
    error = _error(_raw(store_client, body), 400)

    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["body"]
    assert _nothing_stored()


def test_deeply_nested_json_is_refused(store_client):
    error = _error(_raw(store_client, b"[" * 100_000 + b"]" * 100_000), 400)

    assert error["fields"] == {"body": ["nests too deeply"]}
    assert _nothing_stored()


def test_nesting_inside_a_field_is_just_a_bad_field(shop, store_client):
    payload = transaction_payload(shop)
    body = json.dumps(payload)[:-1] + ', "extra": ' + "[" * 500 + "]" * 500 + "}"

    error = _error(_raw(store_client, body.encode()), 400)

    assert error["fields"] == {"extra": ["is not a known field"]}


@pytest.mark.parametrize(
    ("_case", "body"),
    [
        ("a list", b"[]"),
        ("a string", b'"transaction"'),
        ("null", b"null"),
        ("a number", b"42"),
    ],
)
def test_a_body_that_is_not_an_object_is_refused(store_client, _case, body):
    error = _error(_raw(store_client, body), 400)

    assert error["fields"] == {"body": ["must be a JSON object"]}


def test_arrays_where_objects_belong_are_named(shop, store_client):
    payload = transaction_payload(shop, products=[[1, 2]], vouchers={"a": 1})
    del payload["voucher"]

    error = _error(store_client.post(URL, payload, format="json"), 400)

    assert error["fields"] == {
        "products[0]": ["must be a JSON object"],
        "vouchers": ["must be a list of strings"],
    }


def test_integers_beyond_bigint_are_refused(shop, store_client):
    payload = transaction_payload(shop, orderSum=2**64, vatSum=2**63)
    payload["products"][0]["quantity"] = 2**40

    error = _error(store_client.post(URL, payload, format="json"), 400)

    assert error["fields"] == {
        "orderSum": [f"must be at most {2**63 - 1}"],
        "vatSum": [f"must be at most {2**63 - 1}"],
        "products[0].quantity": [f"must be at most {2**31 - 1}"],
    }
    assert _nothing_stored()


def test_nul_bytes_and_lone_surrogates_are_refused(shop, store_client):
    payload = transaction_payload(shop, orderNumber="6925\x0049563", voucher="\ud800")
    payload["products"][0]["name"] = "Shoe\x00"
    body = json.dumps(payload).encode()  # ASCII escapes, as a client would send them

    error = _error(_raw(store_client, body), 400)

    assert error["fields"] == {
        "orderNumber": ["must not contain NUL characters"],
        "products[0].name": ["must not contain NUL characters"],
        "voucher": ["must be valid Unicode text"],
    }
    assert _nothing_stored()


def test_a_commission_beyond_bigint_is_refused(shop, store_client):
    # given 4 units at a fixed 2**62 per unit: 2**64 does not fit in a BIGINT
    shop.gift_card.fixed_amount = 2**62
    shop.gift_card.save()
    line = {"event": str(shop.gift_card.uuid), "quantity": 4, "price": 2**60, "vat": 0}
    payload = transaction_payload(shop, orderSum=2**62, vatSum=0, products=[line])

    error = _error(store_client.post(URL, payload, format="json"), 400)

    assert error["fields"] == {
        "products": ["the commission would exceed the largest storable amount"]
    }
    assert _nothing_stored()


def test_a_body_over_one_megabyte_is_refused_with_413(shop, store_client):
    payload = transaction_payload(shop, orderNumber="x" * (1024 * 1024))

    error = _error(_raw(store_client, json.dumps(payload).encode()), 413)

    assert error["code"] == "payload_too_large"
    assert _nothing_stored()


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(store_client):
    # given a body one byte over the limit that would also be no JSON at all
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    error = _error(_raw(store_client, b"{" * (limit + 1)), 413)

    assert error["code"] == "payload_too_large"
    assert _nothing_stored()


def test_the_parser_refuses_deep_nesting_in_the_error_shape():
    with pytest.raises(ApiError) as caught:
        JSONParser().parse(io.BytesIO(b"[" * 100_000), "application/json", {})

    assert (caught.value.status_code, caught.value.fields) == (400, {"body": ["nests too deeply"]})


@pytest.mark.parametrize(
    ("_case", "content_type"),
    [("plain text", "text/plain"), ("a form", "application/x-www-form-urlencoded")],
)
def test_another_content_type_is_refused_with_415(shop, store_client, _case, content_type):
    body = json.dumps(transaction_payload(shop)).encode()

    error = _error(_raw(store_client, body, content_type=content_type), 415)

    assert error["code"] == "unsupported_media_type"
    assert _nothing_stored()


def test_a_body_without_a_content_type_is_refused_with_415(shop, store_client):
    body = json.dumps(transaction_payload(shop)).encode()

    error = _error(_raw(store_client, body, content_type=""), 415)

    assert error["code"] == "unsupported_media_type"


def test_a_non_text_charset_is_refused(shop, store_client):
    body = json.dumps(transaction_payload(shop)).encode()

    error = _error(
        _raw(store_client, body, content_type="application/json; charset=bz2_codec"), 400
    )

    assert error["code"] == "invalid"


def test_an_unknown_path_under_the_api_answers_404_in_the_error_shape(store_client):
    for method in ("get", "post", "delete"):
        response = getattr(store_client, method)("/api/v2/no-such-call")
        assert _error(response, 404)["code"] == "not_found"
    assert _error(store_client.get("/api/v2/transactions/not-a-uuid"), 404)["code"] == "not_found"


def test_an_unsupported_method_answers_405_in_the_error_shape(store_client):
    error = _error(store_client.delete(URL), 405)

    assert error["code"] == "method_not_allowed"


def test_a_lookup_key_with_a_nul_byte_is_refused(store_client):
    error = _error(store_client.get(URL, {"byOrderNumber": "69\x0025"}), 400)

    assert list(error["fields"]) == ["byOrderNumber"]


def test_an_unexpected_failure_answers_500_in_the_error_shape(shop, store_client, monkeypatch):
    # given a bug somewhere below the view
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("conversions.api.views.record_conversion", broken)

    error = _error(store_client.post(URL, transaction_payload(shop), format="json"), 500)

    assert error["code"] == "server_error"
    assert "bug" not in error["message"]


@pytest.mark.parametrize(
    "spell",
    [
        lambda uuid: f"{{{uuid}}}",
        lambda uuid: f"urn:uuid:{uuid}",
        lambda uuid: uuid.hex,
        lambda uuid: f" {uuid}",
        lambda uuid: "0x" + uuid.hex[2:],
    ],
    ids=["braces", "urn", "no hyphens", "padded", "0x"],
)
def test_a_uuid_in_another_spelling_is_refused(shop, store_client, spell):
    payload = transaction_payload(shop, click=spell(shop.click.uuid))

    error = _error(store_client.post(URL, payload, format="json"), 400)

    assert error["fields"] == {"click": ["must be a UUID"]}
    assert _nothing_stored()
