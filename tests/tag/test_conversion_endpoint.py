import json
import logging

import pytest

from conversions.models import Conversion, ConversionChange, ProductLine
from tests.factories import ClickFactory, EventFactory, ProgramFactory
from tests.tag.helpers import STORE_PAGE, lead_report, transaction_report

pytestmark = pytest.mark.django_db

URL = "/track/v2/conversion"


def _beacon(client, body, *, content_type="text/plain;charset=UTF-8", **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers.setdefault("HTTP_ORIGIN", STORE_PAGE)
    return client.post(URL, data=data, content_type=content_type, **headers)


def _assert_silent_refusal(response, caplog, reason: str) -> None:
    assert response.status_code == 204
    assert response.content == b""
    assert not Conversion.objects.exists()
    assert not ConversionChange.objects.exists()
    refusals = [r.getMessage() for r in caplog.records if r.name == "retrack.tag"]
    assert len(refusals) == 1
    assert refusals[0].startswith("refused: ")
    assert reason in refusals[0]


def test_it_records_a_transaction_from_the_tag(client, shop):
    # given the tag's beacon from the store's confirmation page
    body = transaction_report(shop)

    # when
    response = _beacon(client, body)

    # then it is stored as the store API would, with source=script
    assert response.status_code == 204
    assert response.content == b""
    assert response["Cache-Control"] == "no-store"
    assert response["Access-Control-Allow-Origin"] == "*"
    conversion = Conversion.objects.get()
    assert conversion.kind == "transaction"
    assert conversion.source == "script"
    assert conversion.order_number == "100234"
    assert (conversion.order_sum, conversion.vat_sum) == (25000, 5000)
    # 8 % of 12000 + 12.5 % of 8000
    assert conversion.commission == 1960
    assert conversion.click_id == shop.click.uuid
    assert conversion.partner_id == shop.click.partner_id
    assert list(ProductLine.objects.values_list("event", "quantity", "commission")) == [
        (shop.shoes.pk, 1, 960),
        (shop.socks.pk, 2, 1000),
    ]
    assert ConversionChange.objects.get().actor == "tag"


def test_it_records_a_lead_from_the_tag(client, shop):
    # given
    body = lead_report(shop)

    # when
    response = _beacon(client, body)

    # then
    assert response.status_code == 204
    conversion = Conversion.objects.get()
    assert (conversion.kind, conversion.reference, conversion.commission) == (
        "lead",
        "signup-5521",
        4000,
    )
    assert conversion.source == "script"


def test_it_accepts_an_application_json_body(client, shop):
    # when
    response = _beacon(client, transaction_report(shop), content_type="application/json")

    # then
    assert response.status_code == 204
    assert Conversion.objects.get().order_number == "100234"


def test_it_takes_the_referer_when_there_is_no_origin(client, shop):
    # when
    response = _beacon(
        client,
        transaction_report(shop),
        HTTP_ORIGIN="",
        HTTP_REFERER="https://checkout.store.example/order/done?id=1",
    )

    # then
    assert response.status_code == 204
    assert Conversion.objects.count() == 1


def test_it_admits_a_page_on_an_allowed_domain_with_its_port(client, db):
    # given a development store on localhost:8001
    program = ProgramFactory(allowed_domains=["localhost:8001"])
    click = ClickFactory(program=program)
    event = EventFactory(program=program)
    body = {
        "kind": "transaction",
        "click": str(click.uuid),
        "event": str(event.uuid),
        "orderNumber": "7",
        "orderSum": 1000,
        "vatSum": 200,
        "currency": "SEK",
    }

    # when
    response = _beacon(client, body, HTTP_ORIGIN="http://localhost:8001")

    # then
    assert response.status_code == 204
    assert Conversion.objects.get().commission == 64


@pytest.mark.parametrize(
    ("_case", "headers", "reason"),
    [
        ("another site", {"HTTP_ORIGIN": "https://evil.example"}, "not on an allowed domain"),
        ("look-alike", {"HTTP_ORIGIN": "https://store.example.evil.example"}, "allowed domain"),
        ("another port", {"HTTP_ORIGIN": "https://www.store.example:8443"}, "allowed domain"),
        ("no headers", {"HTTP_ORIGIN": ""}, "neither Origin nor Referer"),
        ("opaque origin", {"HTTP_ORIGIN": "null"}, "neither Origin nor Referer"),
        (
            "origin outranks referer",
            {"HTTP_ORIGIN": "https://evil.example", "HTTP_REFERER": STORE_PAGE + "/"},
            "not on an allowed domain",
        ),
        (
            "referer elsewhere",
            {"HTTP_ORIGIN": "", "HTTP_REFERER": "https://evil.example/?https://store.example"},
            "not on an allowed domain",
        ),
    ],
)
def test_it_refuses_a_page_outside_the_programs_domains(
    client, shop, caplog, _case, headers, reason
):
    # given
    caplog.set_level(logging.INFO, logger="retrack.tag")

    # when
    response = _beacon(client, transaction_report(shop), **headers)

    # then
    _assert_silent_refusal(response, caplog, reason)


@pytest.mark.parametrize(
    ("_case", "body", "reason"),
    [
        ("not JSON", "orderSum=25000", "not JSON"),
        ("not an object", "[1, 2]", "not a JSON object"),
        ("not UTF-8", b"\xff\xfe{}", "not JSON"),
        ("nested too deeply", "[" * 60000, "nested too deeply"),
        (
            "a field nested too deeply",
            '{"kind": "lead", "click": "0190b8e4-0000-7000-8000-000000000000", "voucher": '
            + "[" * 60000,
            "nested too deeply",
        ),
        ("no kind", {"click": "0190b8e4-0000-7000-8000-000000000000"}, "kind is not"),
        ("unknown kind", {"kind": "refund"}, "kind is not"),
        ("no click", {"kind": "lead"}, "click is missing"),
        ("click not a string", {"kind": "lead", "click": 5}, "click is missing"),
        ("malformed click", {"kind": "lead", "click": "<script>"}, "click is not a UUID"),
        (
            "unknown click",
            {"kind": "lead", "click": "0190b8e4-0000-7000-8000-000000000000"},
            "does not exist",
        ),
    ],
)
def test_it_refuses_a_malformed_report(client, shop, caplog, _case, body, reason):
    # given
    caplog.set_level(logging.INFO, logger="retrack.tag")

    # when
    response = _beacon(client, body)

    # then
    _assert_silent_refusal(response, caplog, reason)


@pytest.mark.parametrize(
    ("_case", "overrides", "reason"),
    [
        ("VAT over the sum", {"vatSum": 30000}, "invalid"),
        ("sum as text", {"orderSum": "25000"}, "invalid"),
        ("unknown field", {"shippingSum": 4900}, "invalid"),
        ("wrong currency", {"currency": "NOK"}, "currency_mismatch"),
        ("event of another program", {"event": "0190b8e4-0000-7000-8000-000000000000"}, "event"),
    ],
)
def test_it_refuses_a_report_the_store_api_would_refuse(
    client, shop, caplog, _case, overrides, reason
):
    # given
    caplog.set_level(logging.INFO, logger="retrack.tag")

    # when
    response = _beacon(client, transaction_report(shop, **overrides))

    # then
    _assert_silent_refusal(response, caplog, reason)


def test_it_refuses_a_lead_event_for_a_transaction(client, shop, caplog):
    # given
    caplog.set_level(logging.INFO, logger="retrack.tag")

    # when
    response = _beacon(client, transaction_report(shop, event=str(shop.newsletter.uuid)))

    # then
    _assert_silent_refusal(response, caplog, "event_invalid")


def test_it_refuses_a_form_body(client, shop, caplog):
    # given
    caplog.set_level(logging.INFO, logger="retrack.tag")

    # when
    response = _beacon(
        client,
        json.dumps(transaction_report(shop)),
        content_type="application/x-www-form-urlencoded",
    )

    # then
    _assert_silent_refusal(response, caplog, "neither text/plain nor application/json")


def test_it_refuses_an_oversized_body(client, shop, caplog):
    # given a report padded past 64 KB
    caplog.set_level(logging.INFO, logger="retrack.tag")
    body = transaction_report(shop, voucher="x" * 70_000)

    # when
    response = _beacon(client, body)

    # then
    _assert_silent_refusal(response, caplog, "too large")


@pytest.mark.parametrize(
    ("_case", "overrides", "headers"),
    [
        ("origin", {}, {"HTTP_ORIGIN": "https://evil.example\nINFO recorded"}),
        ("field name", {"x\nINFO recorded": 1}, {}),
        ("field value", {"currency": "SE\nK"}, {}),
    ],
)
def test_it_keeps_line_breaks_from_the_browser_out_of_the_log(
    client, shop, caplog, _case, overrides, headers
):
    # given a report crafted to forge a second log line
    caplog.set_level(logging.INFO, logger="retrack.tag")

    # when
    _beacon(client, transaction_report(shop, **overrides), **headers)

    # then
    messages = [r.getMessage() for r in caplog.records if r.name == "retrack.tag"]
    assert len(messages) == 1
    assert "\n" not in messages[0]
    assert not Conversion.objects.exists()


def test_it_answers_only_post(client, shop):
    # when
    response = client.get(URL, {"kind": "lead", "click": str(shop.click.uuid)})

    # then
    assert response.status_code == 405
    assert not Conversion.objects.exists()


def test_it_stores_a_replayed_report_once(client, shop):
    # given the tag and a reloaded confirmation page send the same report twice
    body = transaction_report(shop)

    # when
    first = _beacon(client, body)
    second = _beacon(client, body)

    # then
    assert (first.status_code, second.status_code) == (204, 204)
    assert Conversion.objects.count() == 1
    assert ConversionChange.objects.count() == 1
