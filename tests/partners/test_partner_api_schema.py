from decimal import Decimal

import pytest
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from conversions.models import ConversionSource
from conversions.services import record_conversion, reject_conversion
from partners.api import examples
from stores.models import EventKind
from tests.factories import (
    AdmissionFactory,
    ClickFactory,
    EventFactory,
    LeadEventFactory,
    PartnerFactory,
    ProgramFactory,
)
from tests.partners.helpers import client_for

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


def test_the_documented_examples_have_the_shape_of_real_answers():
    partner = PartnerFactory(name="Refunder SE")
    program = ProgramFactory(name="Awesome Store SE")
    AdmissionFactory(partner=partner, program=program)
    shoes = EventFactory(program=program, name="Shoes", percent=Decimal("8"))
    newsletter = LeadEventFactory(program=program, name="Newsletter", fixed_amount=4000)
    click = ClickFactory(partner=partner, program=program)
    payload = {
        "event": str(shoes.uuid),
        "click": str(click.uuid),
        "orderNumber": "692549563",
        "orderSum": 1250,
        "vatSum": 250,
        "currency": "SEK",
        "products": [
            {
                "event": str(shoes.uuid),
                "reference": "SKU-SHOE-42",
                "name": "Running shoe",
                "quantity": 1,
                "price": 1250,
                "vat": 250,
            }
        ],
        "voucher": "SUMMER10",
    }
    order = record_conversion(
        EventKind.TRANSACTION, payload, source=ConversionSource.API, store=program.store
    ).conversion
    reject_conversion(order, actor="store:Awesome Store", reason="Order cancelled")
    lead = {"event": str(newsletter.uuid), "click": str(click.uuid), "reference": "member-1001"}
    record_conversion(
        EventKind.LEAD,
        {**lead, "voucher": "WELCOME"},
        source=ConversionSource.API,
        store=program.store,
    )
    client = client_for(partner)

    feed = client.get("/api/v2/partner/conversions").json()
    programs = client.get("/api/v2/partner/programs").json()

    assert [_shape(item) for item in feed["data"]] == [
        _shape(item) for item in examples.FEED_PAGE.value["data"]
    ]
    assert _shape(feed) == _shape(examples.FEED_PAGE.value)
    assert _shape(programs) == _shape(examples.PROGRAMS.value)
