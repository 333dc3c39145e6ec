import pytest
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from conversions.models import ConversionSource
from conversions.services import record_conversion, reject_conversion
from partners.api import examples
from stores.models import EventKind
from tests.factories import (
    AdmissionFactory,
)
from tests.partners.helpers import client_for
from tests.shop import lead_payload, transaction_payload

pytestmark = pytest.mark.django_db


def test_the_openapi_document_describes_both_partner_calls_with_examples():
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    document = response.json()
    validate(document)
    feed = document["paths"]["/api/v2/partner/conversions"]["get"]
    programs = document["paths"]["/api/v2/partner/programs"]["get"]
    assert [parameter["name"] for parameter in feed["parameters"]] == ["cursor", "limit"]
    assert sorted(feed["responses"]) == ["200", "400", "401", "403", "default"]
    assert sorted(feed["responses"]["200"]["content"]["application/json"]["examples"]) == [
        "APage",
        "UpToDate",
    ]
    assert sorted(feed["responses"]["400"]["content"]["application/json"]["examples"]) == [
        "BadCursor",
        "BadLimit",
    ]
    assert sorted(programs["responses"]["200"]["content"]["application/json"]["examples"]) == [
        "Programs"
    ]
    assert feed["security"] == [{"partnerToken": []}]
    page_schema = document["components"]["schemas"]["FeedPage"]
    assert sorted(page_schema["properties"]) == ["data", "has_more", "next_cursor"]


def _shape(value):
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if value is not None else "NoneType"


def test_the_documented_examples_have_the_shape_of_real_answers(shop):
    partner = shop.click.partner
    AdmissionFactory(partner=partner, program=shop.program)
    # The worked example without its socks.
    shoe_only = transaction_payload(shop)
    shoe_only.update(orderSum=1250, vatSum=250, products=shoe_only["products"][:1])
    order = record_conversion(
        EventKind.TRANSACTION, shoe_only, source=ConversionSource.API, store=shop.store
    ).conversion
    reject_conversion(order, actor="store:Awesome Store", reason="Order cancelled")
    record_conversion(
        EventKind.LEAD,
        lead_payload(shop, voucher="WELCOME"),
        source=ConversionSource.API,
        store=shop.store,
    )
    client = client_for(partner)

    feed = client.get("/api/v2/partner/conversions").json()
    programs = client.get("/api/v2/partner/programs").json()

    assert [_shape(item) for item in feed["data"]] == [
        _shape(item) for item in examples.FEED_PAGE.value["data"]
    ]
    assert _shape(feed) == _shape(examples.FEED_PAGE.value)
    assert _shape(programs) == _shape(examples.PROGRAMS.value)
