"""A beacon or pixel that meets a connection the database dropped is still recorded."""

import json

import pytest
from django.db import connection

from conversions.models import Conversion, ConversionChange
from tests.database import terminate_this_threads_connection
from tests.tag.helpers import STORE_PAGE, transaction_report

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_records_a_beacon_when_postgresql_dropped_the_connection(client, shop):
    dropped = terminate_this_threads_connection()

    response = client.post(
        "/track/v2/conversion",
        data=json.dumps(transaction_report(shop)),
        content_type="text/plain;charset=UTF-8",
        HTTP_ORIGIN=STORE_PAGE,
    )

    assert response.status_code == 204
    conversion = Conversion.objects.get()
    assert (conversion.order_number, conversion.source) == ("100234", "script")
    assert ConversionChange.objects.count() == 1
    assert connection.connection.info.backend_pid != dropped


def test_it_records_a_pixel_when_postgresql_dropped_the_connection(client, shop):
    dropped = terminate_this_threads_connection()

    response = client.get(
        "/track/v2/pixel",
        {
            "kind": "lead",
            "click": str(shop.click.uuid),
            "event": str(shop.newsletter.uuid),
            "reference": "signup-5521",
        },
        HTTP_REFERER=STORE_PAGE + "/",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    conversion = Conversion.objects.get()
    assert (conversion.reference, conversion.kind) == ("signup-5521", "lead")
    assert connection.connection.info.backend_pid != dropped
