import json

import pytest

from conversions.models import Conversion
from tests.factories import ClickFactory
from tests.tag.helpers import STORE_PAGE, transaction_report

pytestmark = pytest.mark.django_db

URL = "/track/v2/conversion"


@pytest.fixture
def window(monkeypatch):
    """Pin the throttling window so a test never straddles a minute boundary."""
    current = {"number": 1000}
    monkeypatch.setattr("conversions.tag.throttling.current_window", lambda: current["number"])
    return current


def _beacon(client, body, address="198.51.100.7", **headers):
    return client.post(
        URL,
        data=json.dumps(body),
        content_type="text/plain",
        HTTP_ORIGIN=STORE_PAGE,
        REMOTE_ADDR=address,
        **headers,
    )


def _order(shop, number: int, click=None) -> dict:
    report = transaction_report(shop, orderNumber=f"order-{number}")
    if click is not None:
        report["click"] = str(click.uuid)
    return report


def test_it_throttles_one_address_beyond_its_limit(client, shop, settings, window):
    # given a limit of 2 reports a minute per address, and 3 reports on 3 clicks
    settings.RETRACK_TAG_RATE_PER_IP = 2
    clicks = [ClickFactory(program=shop.program) for _ in range(3)]

    # when
    statuses = [
        _beacon(client, _order(shop, n, click)).status_code for n, click in enumerate(clicks)
    ]

    # then
    assert statuses == [204, 204, 429]
    assert sorted(Conversion.objects.values_list("order_number", flat=True)) == [
        "order-0",
        "order-1",
    ]


def test_it_answers_429_with_retry_after_and_no_body(client, shop, settings, window):
    # given
    settings.RETRACK_TAG_RATE_PER_IP = 1
    _beacon(client, _order(shop, 1))

    # when
    response = _beacon(client, _order(shop, 2))

    # then
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert response.content == b""
    assert Conversion.objects.count() == 1


def test_it_counts_refused_reports_against_the_address(client, shop, settings, window):
    # given a page that floods Retrack with garbage first
    settings.RETRACK_TAG_RATE_PER_IP = 2
    _beacon(client, "garbage")
    _beacon(client, "garbage")

    # when
    response = _beacon(client, _order(shop, 1))

    # then
    assert response.status_code == 429
    assert not Conversion.objects.exists()


def test_other_addresses_keep_their_own_count(client, shop, settings, window):
    # given one address at its limit
    settings.RETRACK_TAG_RATE_PER_IP = 1
    _beacon(client, _order(shop, 1), address="198.51.100.7")

    # when another address reports
    response = _beacon(client, _order(shop, 2), address="203.0.113.9")

    # then
    assert response.status_code == 204
    assert Conversion.objects.count() == 2


def test_it_counts_again_in_the_next_window(client, shop, settings, window):
    # given an address at its limit
    settings.RETRACK_TAG_RATE_PER_IP = 1
    _beacon(client, _order(shop, 1))
    assert _beacon(client, _order(shop, 2)).status_code == 429

    # when the next minute starts
    window["number"] += 1
    response = _beacon(client, _order(shop, 3))

    # then
    assert response.status_code == 204
    assert sorted(Conversion.objects.values_list("order_number", flat=True)) == [
        "order-1",
        "order-3",
    ]


def test_it_throttles_one_click_beyond_its_limit_from_any_address(client, shop, settings, window):
    # given a limit of 2 reports a minute per click
    settings.RETRACK_TAG_RATE_PER_CLICK = 2
    addresses = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]

    # when three addresses report three orders on one click
    statuses = [
        _beacon(client, _order(shop, n), address=address).status_code
        for n, address in enumerate(addresses)
    ]

    # then
    assert statuses == [204, 204, 429]
    assert Conversion.objects.count() == 2


def test_it_throttles_the_pixel_too(client, shop, settings, window):
    # given
    settings.RETRACK_TAG_RATE_PER_CLICK = 1
    params = {
        "kind": "lead",
        "click": str(shop.click.uuid),
        "event": str(shop.newsletter.uuid),
        "reference": "signup-1",
    }
    client.get("/track/v2/pixel", params, HTTP_REFERER=STORE_PAGE + "/")

    # when
    response = client.get(
        "/track/v2/pixel", {**params, "reference": "signup-2"}, HTTP_REFERER=STORE_PAGE + "/"
    )

    # then
    assert response.status_code == 429
    assert list(Conversion.objects.values_list("reference", flat=True)) == ["signup-1"]


def test_it_counts_the_address_the_trusted_proxy_saw(client, shop, settings, window):
    # given one trusted proxy, and two visitors behind it at a limit of 1 per address
    settings.RETRACK_TRUSTED_PROXIES = 1
    settings.RETRACK_TAG_RATE_PER_IP = 1
    proxy = "10.0.0.2"

    # when
    first = _beacon(client, _order(shop, 1), address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")
    second = _beacon(client, _order(shop, 2), address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    again = _beacon(
        client, _order(shop, 3), address=proxy, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.2"
    )

    # then a forged left-most entry does not give the second visitor a fresh count
    assert (first.status_code, second.status_code, again.status_code) == (204, 204, 429)
    assert Conversion.objects.count() == 2


def test_a_limit_of_zero_turns_throttling_off(client, shop, settings, window):
    # given
    settings.RETRACK_TAG_RATE_PER_IP = 0
    settings.RETRACK_TAG_RATE_PER_CLICK = 0

    # when
    statuses = {_beacon(client, _order(shop, n)).status_code for n in range(15)}

    # then
    assert statuses == {204}
    assert Conversion.objects.count() == 15
