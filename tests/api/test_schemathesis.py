"""Schemathesis against `/api/schema/`: generated requests to every operation of both APIs,
with a store token and a partner token, get no server error and answers that match the
document (status codes, content types, bodies)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clicks.models import Click
from conversions.models import ConversionSource
from conversions.services import record_conversion
from partners.services import issue_partner_token
from retrack.wsgi import application
from stores.services import issue_store_token
from tests.factories import AdmissionFactory
from tests.shop import create_shop, lead_payload, transaction_payload

# Bounded: the whole run takes well under a minute.
EXAMPLES_PER_OPERATION = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _in_the_tests_transaction(environ, start_response):
    """The WSGI application, without the request signals closing the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        return list(application(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db) -> dict[str, str]:
    """A store and a partner with conversions to find: the documented order and lead."""
    shop = create_shop()
    AdmissionFactory(program=shop.program, partner=shop.click.partner)
    # A click just made: its conversions are flagged too_fast, so answers carry flags.
    Click.objects.filter(pk=shop.click.pk).update(created_at=timezone.now())
    api = ConversionSource.API
    record_conversion("transaction", transaction_payload(shop), source=api, store=shop.store)
    record_conversion("lead", lead_payload(shop), source=api, store=shop.store)
    record_conversion(
        "transaction",
        transaction_payload(shop, orderNumber="FLAGGED-1"),
        source=ConversionSource.SCRIPT,
        store=None,
    )
    _, store_secret = issue_store_token(shop.store, "schemathesis")
    _, partner_secret = issue_partner_token(shop.click.partner, "schemathesis")
    return {"store": store_secret, "partner": partner_secret}


# Loaded once, at collection: the document needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", _in_the_tests_transaction)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(case, tokens):
    side = "partner" if case.path.startswith("/api/v2/partner/") else "store"
    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[side]}"}, checks=CHECKS)
