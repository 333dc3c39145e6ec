"""What the tag's reports leave in the report log, and debug mode (contract sections 3, 8)."""

import json

import pytest

from conversions.models import Conversion, ReportLogEntry
from tests.tag.helpers import STORE_PAGE, lead_report, transaction_report

pytestmark = pytest.mark.django_db


def _beacon(client, body, path="/track/v2/conversion", **headers):
    headers.setdefault("HTTP_ORIGIN", STORE_PAGE)
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type="text/plain", **headers)


def test_a_stored_beacon_is_logged_as_the_stores(client, shop):
    _beacon(client, transaction_report(shop))

    entry = ReportLogEntry.objects.get()
    assert (entry.source, entry.kind, entry.outcome, entry.status_code) == (
        "script",
        "transaction",
        "created",
        201,
    )
    assert entry.store_id == shop.program.store_id
    assert entry.program == shop.program
    assert entry.conversion == Conversion.objects.get()
    assert (entry.click, entry.key) == (str(shop.click.uuid), "100234")
    assert json.loads(entry.payload) == transaction_report(shop)


def test_a_beacon_from_another_site_is_logged_as_origin_refused(client, shop):
    _beacon(client, transaction_report(shop), HTTP_ORIGIN="https://evil.example")

    entry = ReportLogEntry.objects.get()
    assert (entry.outcome, entry.code, entry.status_code) == ("refused", "origin_refused", 403)
    assert entry.store_id == shop.program.store_id
    assert not Conversion.objects.exists()


def test_a_beacon_on_an_unknown_click_belongs_to_nobody(client, shop):
    unknown = "0190b8e4-0000-7000-8000-000000000000"

    _beacon(client, transaction_report(shop, click=unknown))

    entry = ReportLogEntry.objects.get()
    assert (entry.outcome, entry.code, entry.store_id) == ("refused", "click_not_found", None)
    assert entry.click == unknown


def test_a_body_that_is_not_json_is_logged_as_invalid(client, shop):
    _beacon(client, b"\x00\xffnot json")

    entry = ReportLogEntry.objects.get()
    assert (entry.outcome, entry.code, entry.kind) == ("refused", "invalid", None)
    assert entry.payload == "\\u0000not json"


def test_the_pixel_is_logged_and_stored_with_source_pixel(client, shop):
    params = {
        "kind": "lead",
        "click": str(shop.click.uuid),
        "event": str(shop.newsletter.uuid),
        "reference": "signup-1",
    }

    client.get("/track/v2/pixel", params, HTTP_REFERER=STORE_PAGE + "/thanks")

    entry = ReportLogEntry.objects.get()
    assert (entry.source, entry.outcome, entry.key) == ("pixel", "created", "signup-1")
    assert Conversion.objects.get().source == "pixel"
    assert "reference=signup-1" in entry.payload


def test_debug_mode_answers_the_verdict_of_a_stored_report(client, shop):
    response = _beacon(client, lead_report(shop), "/track/v2/conversion?debug=1")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {
        "data": {
            "outcome": "created",
            "code": None,
            "message": "Stored.",
            "conversion": str(Conversion.objects.get().uuid),
        }
    }


def test_debug_mode_answers_the_code_of_a_refused_report(client, shop):
    response = _beacon(
        client, transaction_report(shop, currency="EUR"), "/track/v2/conversion?debug=1"
    )

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["outcome"], data["code"], data["conversion"]) == (
        "refused",
        "currency_mismatch",
        None,
    )
    assert data["message"] == "The program's currency is SEK, not EUR."
    assert not Conversion.objects.exists()


def test_without_debug_mode_the_answer_is_empty_whatever_happened(client, shop):
    refused = _beacon(client, transaction_report(shop, currency="EUR"))

    assert refused.status_code == 204
    assert refused.content == b""
