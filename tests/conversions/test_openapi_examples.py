"""The OpenAPI document's examples and fields must be those of real answers."""

import pytest
from rest_framework.test import APIClient

from conversions.api import docs
from conversions.models import ConversionSource
from conversions.selectors import conversion_document
from conversions.services import record_conversion
from stores.models import EventKind
from tests.shop import lead_payload, transaction_payload

pytestmark = pytest.mark.django_db


def _shape(value):
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if value is not None else "NoneType"


def test_the_documented_examples_have_the_shape_of_real_answers(shop):
    transaction = record_conversion(
        EventKind.TRANSACTION,
        transaction_payload(shop),
        source=ConversionSource.API,
        store=shop.store,
    ).conversion
    lead = record_conversion(
        EventKind.LEAD,
        lead_payload(shop, voucher="WELCOME"),
        source=ConversionSource.API,
        store=shop.store,
    ).conversion

    assert _shape(docs.TRANSACTION_DOCUMENT) == _shape(conversion_document(transaction))
    assert _shape(docs.LEAD_DOCUMENT) == _shape(conversion_document(lead))


def test_the_documented_response_fields_are_those_of_real_answers(shop):
    transaction = record_conversion(
        EventKind.TRANSACTION,
        transaction_payload(shop),
        source=ConversionSource.API,
        store=shop.store,
    ).conversion
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    documented = schema["components"]["schemas"]["ConversionDocument"]["properties"]

    assert set(documented) == set(conversion_document(transaction)) | {"reference"}
