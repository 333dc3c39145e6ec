"""Every example in the OpenAPI document is sent to a real server and gets its documented answer.

The shop below has the documented UUIDs, names and rates, so the answers must equal the
documented ones except for what only the server can know: the new conversion's UUID and
the times.
"""

import json
import re
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from clicks.models import Click
from conversions.api import docs
from conversions.models import Conversion, ConversionChange
from partners.models import Partner
from partners.services import issue_partner_token
from stores.models import Event, EventKind, Program, Store
from stores.services import issue_store_token
from tests.factories import ClickFactory, EventFactory, ProgramFactory

pytestmark = pytest.mark.django_db

_EXAMPLE = docs.TRANSACTION_DOCUMENT
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def document(openapi_document) -> dict:
    return openapi_document


@pytest.fixture
def documented_shop(db) -> Program:
    """The store, program, events, partner and click the document's examples name."""
    store = Store.objects.create(
        uuid=UUID(_EXAMPLE["advertiser"]["uuid"]), name=_EXAMPLE["advertiser"]["name"]
    )
    program = ProgramFactory(
        uuid=UUID(_EXAMPLE["program"]["uuid"]), store=store, name=_EXAMPLE["program"]["name"]
    )
    for uuid, name, percent in [(docs.SHOES, "Shoes", "8"), (docs.SOCKS, "Socks", "12.5")]:
        EventFactory(uuid=UUID(uuid), program=program, name=name, percent=Decimal(percent))
    Event.objects.create(
        uuid=UUID(docs.NEWSLETTER),
        program=program,
        name="Newsletter",
        kind=EventKind.LEAD,
        fixed_amount=4000,
    )
    publisher = _EXAMPLE["publisher"]
    partner = Partner.objects.create(
        uuid=UUID(publisher["uuid"]), name=publisher["name"], created_at=publisher["created_at"]
    )
    click = {key: value for key, value in _EXAMPLE["click"].items() if key != "created_at"}
    ClickFactory(**click, program=program, partner=partner)
    return program


def _client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def store_client(documented_shop) -> APIClient:
    return _client(issue_store_token(documented_shop.store, "checkout")[1])


def _known_only_to_the_server(answer: dict) -> dict:
    """The answer with the conversion's UUID and its times blanked."""
    data = json.loads(json.dumps(answer))
    if isinstance(data.get("data"), dict):
        data["data"].update(uuid="…", created_at="…", updated_at="…")
        if data["data"].get("auto_approve_at"):
            data["data"]["auto_approve_at"] = "…"
        data["data"]["click"]["created_at"] = "…"
    if "error" in data:
        data["error"]["message"] = _UUID.sub("…", data["error"]["message"])
    return data


def _examples(operation: dict, status: str) -> dict[str, dict]:
    content = operation["responses"][status]["content"]["application/json"]
    return {name: example["value"] for name, example in content.get("examples", {}).items()}


def _request_examples(operation: dict) -> dict[str, dict]:
    content = operation["requestBody"]["content"]["application/json"]
    return {name: example["value"] for name, example in content["examples"].items()}


# Each request example, and the documented answer it must get.
_ANSWERS = {
    ("/api/v2/transactions", "post", "TheWorkedExample"): ("201", "Stored"),
    ("/api/v2/leads", "post", "ANewsletterSign-up"): ("201", "Stored"),
    ("/api/v2/transactions/{uuid}", "patch", "PartialReturn:TwoOfTheThreeSocks"): (
        "200",
        "Amended",
    ),
    ("/api/v2/transactions/{uuid}", "patch", "CancelledOrder"): ("200", "Rejected"),
    ("/api/v2/leads/{uuid}", "patch", "FakeSign-up"): ("200", "Rejected"),
}


# Checked against a real server in tests/api/test_claim_examples.py (a partner files the
# claim first; its own example, on the partner API, is checked there too).
CLAIM_EXAMPLES = {
    ("/api/v2/claims/{uuid}", "patch", "Accept"),
    ("/api/v2/claims/{uuid}", "patch", "Decline"),
}


def test_every_request_example_is_checked_here(document):
    # The partner API's (webhook registration) is checked in tests/partners.
    documented = {
        (path, method, name)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation and not path.startswith("/api/v2/partner/")
        for name in _request_examples(operation)
    }

    assert documented == set(_ANSWERS) | CLAIM_EXAMPLES | {_TEST_CLICK_EXAMPLE}


_TEST_CLICK_EXAMPLE = ("/api/v2/test-clicks", "post", "ATestClick")


def test_the_test_click_example_gets_its_documented_answer(document, store_client):
    operation = document["paths"]["/api/v2/test-clicks"]["post"]

    response = store_client.post(
        "/api/v2/test-clicks", _request_examples(operation)["ATestClick"], format="json"
    )

    assert response.status_code == 201, response.content
    documented = _examples(operation, "201")["Made"]
    answered = json.loads(_UUID.sub("…", response.content.decode()))
    assert answered == json.loads(_UUID.sub("…", json.dumps(documented)))


@pytest.mark.parametrize(("path", "method", "example"), sorted(_ANSWERS))
def test_each_request_example_gets_its_documented_answer(
    document, store_client, path, method, example
):
    # given the conversion a PATCH example amends, stored by the worked example
    operation = document["paths"][path][method]
    status, answer = _ANSWERS[(path, method, example)]
    if "{uuid}" in path:
        create = "/api/v2/transactions" if "transactions" in path else "/api/v2/leads"
        body = docs.TRANSACTION_BODY if "transactions" in path else docs.LEAD_BODY
        stored = store_client.post(create, body, format="json").json()["data"]
        path = path.replace("{uuid}", stored["uuid"])

    # when
    response = getattr(store_client, method)(
        path, _request_examples(operation)[example], format="json"
    )

    # then
    assert response.status_code == int(status), response.content
    if status == "201":
        assert response["Location"] == f"{path}/{response.json()['data']['uuid']}"
    assert _known_only_to_the_server(response.json()) == _known_only_to_the_server(
        _examples(operation, status)[answer]
    )


@pytest.mark.parametrize("path", ["/api/v2/transactions", "/api/v2/leads"])
def test_the_lookup_examples_are_real_answers(document, store_client, path):
    body = docs.TRANSACTION_BODY if "transactions" in path else docs.LEAD_BODY
    stored = store_client.post(path, body, format="json").json()["data"]
    lookup = document["paths"][path]["get"]
    detail = document["paths"][f"{path}/{{uuid}}"]["get"]
    parameter = lookup["parameters"][0]["name"]
    key = stored.get("order_number") or stored["reference"]

    found = store_client.get(path, {parameter: key})
    one = store_client.get(f"{path}/{stored['uuid']}")

    expected = _known_only_to_the_server(_examples(lookup, "200")["Found"])
    assert _known_only_to_the_server(found.json()) == expected
    assert _known_only_to_the_server(one.json()) == expected
    assert _known_only_to_the_server(_examples(detail, "200")["Found"]) == expected


def _another_stores_click() -> str:
    return str(ClickFactory().uuid)


def _refusal(code: str, program: Program, store_client: APIClient):
    """A request to POST /api/v2/transactions that the store API refuses with `code`."""
    body = json.loads(json.dumps(docs.TRANSACTION_BODY))
    url = "/api/v2/transactions"
    client = store_client
    if code == "invalid":
        body["vatSum"] = body["orderSum"] + 1
        body["products"][1]["quantity"] = 0
    elif code == "not_authenticated":
        client = _client("rts_unknown")
    elif code == "permission_denied":
        client = _client(issue_partner_token(Partner.objects.get(), "poller")[1])
    elif code == "duplicate_conflict":
        store_client.post(url, body, format="json")
        body["voucher"] = "OTHER"
    elif code == "idempotency_key_conflict":
        store_client.post(url, body, format="json", headers={"Idempotency-Key": "k-1"})
        body["orderNumber"] = "692549564"
        return client.post(url, body, format="json", headers={"Idempotency-Key": "k-1"})
    elif code == "payload_too_large":
        body["name"] = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    elif code == "unsupported_media_type":
        return client.generic("POST", url, json.dumps(body), content_type="text/plain")
    elif code == "click_not_found":
        body["click"] = "0190d7a6-0000-7000-8000-000000000000"
    elif code == "click_not_yours":
        body["click"] = _another_stores_click()
    elif code == "click_expired":
        Click.objects.update(created_at=timezone.now() - timedelta(days=31))
    elif code == "event_invalid":
        body["products"][0]["event"] = docs.NEWSLETTER
    elif code == "currency_mismatch":
        body["currency"] = "NOK"
    return client.post(url, body, format="json")


@pytest.mark.parametrize(
    "code",
    [
        "invalid",
        "not_authenticated",
        "permission_denied",
        "duplicate_conflict",
        "idempotency_key_conflict",
        "payload_too_large",
        "unsupported_media_type",
        "click_not_found",
        "click_not_yours",
        "click_expired",
        "event_invalid",
        "currency_mismatch",
    ],
)
def test_each_documented_refusal_of_a_transaction_is_a_real_answer(
    document, documented_shop, store_client, code
):
    operation = document["paths"]["/api/v2/transactions"]["post"]
    (status,) = [
        status
        for status, response in operation["responses"].items()
        if f"`{code}`" in response["description"]
    ]
    documented = _examples(operation, status)
    (example,) = [value for value in documented.values() if value["error"]["code"] == code]
    stored_before = Conversion.objects.count()

    response = _refusal(code, documented_shop, store_client)

    assert response.status_code == int(status), response.content
    assert _known_only_to_the_server(response.json()) == _known_only_to_the_server(example)
    if code not in ("duplicate_conflict", "idempotency_key_conflict"):
        assert Conversion.objects.count() == stored_before == 0
    assert ConversionChange.objects.count() == Conversion.objects.count()
