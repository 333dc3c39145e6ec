"""A purchase reported by the tag and by the store's server is stored once."""

import json
import logging

import pytest

from conversions.models import Conversion, ConversionChange, ConversionSource
from conversions.services import record_lead, record_transaction
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


def _api_payload(report: dict) -> dict:
    return {name: value for name, value in report.items() if name != "kind"}


def test_the_tag_first_then_the_api_store_one_conversion_from_the_script(client, shop):
    # given the tag reported the order
    report = transaction_report(shop)
    _tag(client, report)

    # when the store's server reports the same order
    conversion, created = record_transaction(
        _api_payload(report), source=ConversionSource.API, store=shop.program.store
    )

    # then
    assert created is False
    assert Conversion.objects.get().pk == conversion.pk
    assert conversion.source == "script"
    assert ConversionChange.objects.count() == 1


def test_the_api_first_then_the_tag_store_one_conversion_from_the_api(client, shop):
    # given the store's server reported the order
    report = transaction_report(shop)
    record_transaction(_api_payload(report), source=ConversionSource.API, store=shop.program.store)

    # when the tag reports the same order
    _tag(client, report)

    # then
    conversion = Conversion.objects.get()
    assert conversion.source == "api"
    assert conversion.commission == 1360
    assert ConversionChange.objects.count() == 1


def test_a_lead_from_both_is_stored_once(client, shop):
    # given
    report = lead_report(shop)
    _tag(client, report)

    # when
    conversion, created = record_lead(
        _api_payload(report), source=ConversionSource.API, store=shop.program.store
    )

    # then
    assert created is False
    assert Conversion.objects.get().source == "script"


def test_a_different_tag_report_for_a_stored_order_changes_nothing(client, shop, caplog):
    # given the store's server reported the order
    caplog.set_level(logging.INFO, logger="retrack.tag")
    report = transaction_report(shop)
    record_transaction(_api_payload(report), source=ConversionSource.API, store=shop.program.store)

    # when the tag reports other sums for the same order number
    _tag(client, transaction_report(shop, orderSum=99900, vatSum=0, products=[]))

    # then the stored order stands; the conflict is only logged
    conversion = Conversion.objects.get()
    assert (conversion.order_sum, conversion.source) == (25000, "api")
    assert ConversionChange.objects.count() == 1
    assert any("duplicate_conflict" in record.getMessage() for record in caplog.records)
