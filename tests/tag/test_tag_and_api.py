"""A purchase reported by the tag and by the store's server is stored once."""

import json
import logging

import pytest

from conversions.models import Conversion, ConversionChange
from stores.services import issue_store_token
from tests.tag.helpers import STORE_PAGE, lead_report, transaction_report

pytestmark = pytest.mark.django_db


def _tag(client, report: dict) -> None:
    response = client.post(
        "/track/v2/conversion",
        data=json.dumps(report),
        content_type="text/plain",
        HTTP_ORIGIN=STORE_PAGE,
    )
    assert response.status_code == 204


def _api(client, shop, path: str, report: dict):
    """The store's server reporting the same fields through the store API."""
    _, token = issue_store_token(shop.program.store)
    payload = {name: value for name, value in report.items() if name != "kind"}
    return client.post(
        path, payload, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_the_tag_first_then_the_api_store_one_conversion_from_the_script(client, shop):
    # given the tag reported the order
    report = transaction_report(shop)
    _tag(client, report)

    # when the store's server reports the same order
    response = _api(client, shop, "/api/v2/transactions", report)

    # then it gets the stored record back
    assert response.status_code == 200
    conversion = Conversion.objects.get()
    assert response.json()["data"]["uuid"] == str(conversion.uuid)
    assert conversion.source == "script"
    assert ConversionChange.objects.count() == 1


def test_the_api_first_then_the_tag_store_one_conversion_from_the_api(client, shop):
    # given the store's server reported the order
    report = transaction_report(shop)
    assert _api(client, shop, "/api/v2/transactions", report).status_code == 201

    # when the tag reports the same order
    _tag(client, report)

    # then
    conversion = Conversion.objects.get()
    assert conversion.source == "api"
    assert conversion.commission == 1960  # 8 % of 12000 + 12.5 % of 8000
    assert ConversionChange.objects.count() == 1


def test_a_lead_from_both_is_stored_once(client, shop):
    # given
    report = lead_report(shop)
    _tag(client, report)

    # when
    response = _api(client, shop, "/api/v2/leads", report)

    # then
    assert response.status_code == 200
    assert Conversion.objects.get().source == "script"
    assert ConversionChange.objects.count() == 1


def test_a_different_tag_report_for_a_stored_order_changes_nothing(client, shop, caplog):
    # given the store's server reported the order
    caplog.set_level(logging.INFO, logger="retrack.tag")
    report = transaction_report(shop)
    assert _api(client, shop, "/api/v2/transactions", report).status_code == 201

    # when the tag reports other sums for the same order number
    _tag(client, transaction_report(shop, orderSum=99900, vatSum=0, products=[]))

    # then the stored order stands; the conflict is only logged
    conversion = Conversion.objects.get()
    assert (conversion.order_sum, conversion.source) == (25000, "api")
    assert ConversionChange.objects.count() == 1
    assert any("duplicate_conflict" in record.getMessage() for record in caplog.records)
