import logging

import pytest

from conversions.models import Conversion, ConversionChange
from conversions.tag.views import PIXEL_GIF
from tests.tag.helpers import STORE_PAGE

pytestmark = pytest.mark.django_db

URL = "/track/v2/pixel"


def _pixel(client, params, **headers):
    headers.setdefault("HTTP_REFERER", STORE_PAGE + "/")
    return client.get(URL, params, **headers)


def _transaction_params(shop, **overrides) -> dict:
    params = {
        "kind": "transaction",
        "click": str(shop.click.uuid),
        "event": str(shop.shoes.uuid),
        "orderNumber": "100234",
        "orderSum": "25000",
        "vatSum": "5000",
        "currency": "SEK",
    }
    params.update(overrides)
    return params


def _assert_gif(response) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["Cache-Control"] == "no-store"
    assert response.content == PIXEL_GIF


def test_it_records_a_transaction_from_the_pixel(client, shop):
    # when the <noscript> image loads on the confirmation page
    response = _pixel(client, _transaction_params(shop, voucher="SUMMER10"))

    # then the sums, given as text, are stored as integers; no lines, so the order's event
    _assert_gif(response)
    conversion = Conversion.objects.get()
    assert conversion.source == "pixel"  # contract section 4: the channel that first reported it
    assert (conversion.order_number, conversion.order_sum, conversion.vat_sum) == (
        "100234",
        25000,
        5000,
    )
    assert conversion.commission == 1600  # 8 % of 20000
    assert conversion.vouchers == ["SUMMER10"]
    assert not conversion.lines.exists()


def test_it_records_a_lead_from_the_pixel(client, shop):
    # when
    response = _pixel(
        client,
        {
            "kind": "lead",
            "click": str(shop.click.uuid),
            "event": str(shop.newsletter.uuid),
            "reference": "signup-5521",
        },
    )

    # then
    _assert_gif(response)
    conversion = Conversion.objects.get()
    assert (conversion.kind, conversion.reference, conversion.commission) == (
        "lead",
        "signup-5521",
        4000,
    )


def test_it_ignores_parameters_that_are_not_the_kinds_fields(client, shop):
    # given a cache buster, campaign tags and a lead's field on a transaction
    params = _transaction_params(shop, _="1716", utm_source="mail", reference="x")

    # when
    response = _pixel(client, params)

    # then
    _assert_gif(response)
    assert Conversion.objects.get().order_number == "100234"


def test_it_takes_the_origin_when_the_image_sends_one(client, shop):
    # when
    response = _pixel(client, _transaction_params(shop), HTTP_REFERER="", HTTP_ORIGIN=STORE_PAGE)

    # then
    _assert_gif(response)
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize(
    ("_case", "overrides", "headers", "reason"),
    [
        ("another site", {}, {"HTTP_REFERER": "https://evil.example/"}, "allowed domain"),
        ("no referer", {}, {"HTTP_REFERER": ""}, "neither Origin nor Referer"),
        ("no kind", {"kind": ""}, {}, "kind is not"),
        ("malformed click", {"click": "1"}, {}, "click is not a UUID"),
        ("unknown click", {"click": "0190b8e4-0000-7000-8000-000000000000"}, {}, "not exist"),
        ("sum not an integer", {"orderSum": "250.00"}, {}, "invalid"),
        ("negative VAT", {"vatSum": "-1"}, {}, "invalid"),
        ("missing order number", {"orderNumber": ""}, {}, "invalid"),
    ],
)
def test_it_refuses_a_bad_pixel_with_the_same_gif(
    client, shop, caplog, _case, overrides, headers, reason
):
    # given
    caplog.set_level(logging.INFO, logger="retrack.tag")

    # when
    response = _pixel(client, _transaction_params(shop, **overrides), **headers)

    # then
    _assert_gif(response)
    assert not Conversion.objects.exists()
    assert not ConversionChange.objects.exists()
    messages = [r.getMessage() for r in caplog.records if r.name == "retrack.tag"]
    assert len(messages) == 1
    assert reason in messages[0]


def test_it_answers_only_get(client, shop):
    # when
    response = client.post(URL, _transaction_params(shop), HTTP_REFERER=STORE_PAGE + "/")

    # then
    assert response.status_code == 405
    assert not Conversion.objects.exists()
