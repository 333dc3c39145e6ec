"""What a browser may claim: the attacks of issue 12, and the store's server outranking it."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from conversions.models import Conversion, ConversionChange, ConversionFlag
from conversions.services import approve_due_conversions
from stores.services import issue_store_token
from tests.factories import AdmissionFactory, ClickFactory
from tests.partners.helpers import client_for
from tests.tag.helpers import STORE_PAGE, transaction_report

pytestmark = pytest.mark.django_db

FAR_FUTURE = timezone.now() + timedelta(days=3650)


def _beacon(client, report: dict) -> None:
    response = client.post(
        "/track/v2/conversion",
        data=json.dumps(report),
        content_type="text/plain",
        HTTP_ORIGIN=STORE_PAGE,
    )
    assert response.status_code == 204


def _store_api(client, shop):
    _, token = issue_store_token(shop.program.store)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _api_post(client, shop, report: dict):
    payload = {name: value for name, value in report.items() if name != "kind"}
    return client.post(
        "/api/v2/transactions", payload, content_type="application/json", **_store_api(client, shop)
    )


def _feed(shop) -> list[dict]:
    AdmissionFactory(program=shop.program, partner=shop.click.partner)
    return client_for(shop.click.partner).get("/api/v2/partner/conversions").json()["data"]


def test_the_gift_card_attack_leaves_a_flagged_conversion_that_is_never_auto_approved(client, shop):
    # given a gift card event paying 500 per unit, and the attack run's beacon
    gift_card = shop.gift_card
    attack = {
        "kind": "transaction",
        "click": str(shop.click.uuid),
        "event": str(gift_card.uuid),
        "orderNumber": "FAKE-1",
        "orderSum": 0,
        "vatSum": 0,
        "currency": "SEK",
        "products": [{"event": str(gift_card.uuid), "quantity": 2147483647, "price": 0, "vat": 0}],
    }

    # when
    _beacon(client, attack)
    approved = approve_due_conversions(now=FAR_FUTURE)

    # then it is stored, held by a limit_exceeded flag, and the job leaves it pending
    conversion = Conversion.objects.get()
    assert (approved, conversion.status, conversion.confirmed) == (0, "pending", False)
    assert conversion.commission == 500 * 2147483647
    flag = ConversionFlag.objects.get()
    assert (flag.code, flag.cleared_at) == ("limit_exceeded", None)
    assert flag.reason == (
        "Reported by a browser over a limit: products[0].quantity is over the program's "
        "limit of 1000 per line; commission would be 1073741823500, over the program's limit "
        "of 1000000."
    )
    # the store sees the flag; the partner sees a pending conversion with no approval date
    document = client.get(
        f"/api/v2/transactions/{conversion.uuid}", **_store_api(client, shop)
    ).json()["data"]
    assert document["flags"] == [
        {
            "code": "limit_exceeded",
            "reason": flag.reason,
            "raised_at": flag.raised_at.isoformat().replace("+00:00", "Z"),
        }
    ]
    assert document["auto_approve_at"] is None
    [item] = _feed(shop)
    assert (item["status"], item["auto_approve_at"], "flags" in item) == ("pending", None, False)


def test_the_pre_emption_attack_ends_with_the_stores_values_confirmed(client, shop):
    # given the shopper beacons the real order number first, with an inflated sum
    honest = transaction_report(shop)
    inflated = transaction_report(
        shop,
        orderSum=85000,
        vatSum=17000,
        products=[{**honest["products"][0], "quantity": 5}, honest["products"][1]],
    )
    _beacon(client, inflated)
    assert Conversion.objects.get().order_sum == 85000

    # when the store's server reports the real order
    response = _api_post(client, shop, honest)

    # then the store's values replace the browser's, and the answer says it is confirmed
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["order_sum"], data["vat_sum"], data["commission"]) == (25000, 5000, 1960)
    assert (data["source"], data["confirmed"], data["flags"]) == ("script", True, [])
    conversion = Conversion.objects.get()
    assert (conversion.order_sum, conversion.commission, conversion.confirmed) == (
        25000,
        1960,
        True,
    )
    assert [line.quantity for line in conversion.lines.all()] == [1, 2]
    created, amended = ConversionChange.objects.order_by("id")
    assert (created.actor, amended.action, amended.actor) == (
        "tag",
        "amended",
        f"store:{shop.program.store.name}",
    )
    assert amended.reason == "Reported by the store's server: its values replace the browser's."
    assert {name: values for name, values in amended.changes.items() if name != "products"} == {
        "order_sum": [85000, 25000],
        "vat_sum": [17000, 5000],
        "commission": [5800, 1960],
        "confirmed": [False, True],
    }
    # the partner's latest item has the store's values
    assert [(item["order_sum"], item["confirmed"]) for item in _feed(shop)] == [
        (85000, False),
        (25000, True),
    ]


def test_the_same_report_again_from_the_store_answers_the_confirmed_record(client, shop):
    _beacon(client, transaction_report(shop, orderSum=99000, vatSum=19800, products=[]))
    first = _api_post(client, shop, transaction_report(shop))

    again = _api_post(client, shop, transaction_report(shop))

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["data"] == first.json()["data"]
    assert ConversionChange.objects.count() == 2


def test_a_browser_report_after_the_stores_changes_nothing(client, shop):
    # given the store's server confirmed the order over the browser's values
    _beacon(client, transaction_report(shop, orderSum=99000, vatSum=19800, products=[]))
    _api_post(client, shop, transaction_report(shop))
    before = list(Conversion.objects.values())

    # when the browser reports it again, with other sums
    _beacon(client, transaction_report(shop, orderSum=500000, vatSum=100000, products=[]))

    # then
    assert list(Conversion.objects.values()) == before
    assert ConversionChange.objects.count() == 2


def test_the_stores_report_over_a_limit_is_refused_and_leaves_the_browsers(client, shop):
    _beacon(client, transaction_report(shop))
    shop.program.max_order_sum = 20000
    shop.program.save()

    response = _api_post(client, shop, transaction_report(shop, orderSum=30000, products=[]))

    assert (response.status_code, response.json()["error"]["code"]) == (422, "limit_exceeded")
    conversion = Conversion.objects.get()
    assert (conversion.order_sum, conversion.confirmed) == (25000, False)
    assert ConversionChange.objects.count() == 1


def test_the_store_cannot_replace_a_decided_browser_report(client, shop):
    _beacon(client, transaction_report(shop, orderSum=99000, vatSum=19800, products=[]))
    Conversion.objects.update(status="approved")

    response = _api_post(client, shop, transaction_report(shop))

    assert (response.status_code, response.json()["error"]["code"]) == (409, "duplicate_conflict")
    assert Conversion.objects.get().order_sum == 99000


def test_the_stores_report_on_another_partners_click_moves_the_conversion(client, shop):
    # given a browser pre-empted the order with the attacker's click, of another partner
    attacker_click = ClickFactory(program=shop.program)
    _beacon(client, transaction_report(shop, click=str(attacker_click.uuid)))
    AdmissionFactory(program=shop.program, partner=attacker_click.partner)
    attacker = client_for(attacker_click.partner)

    # when the store's server reports the order on the shopper's real click
    response = _api_post(client, shop, transaction_report(shop))

    # then the conversion is the real click's partner's; the attacker's feed shows it rejected
    assert response.status_code == 200
    conversion = Conversion.objects.get()
    assert (conversion.click_id, conversion.partner_id) == (shop.click.pk, shop.click.partner_id)
    attacker_items = attacker.get("/api/v2/partner/conversions").json()["data"]
    assert [(item["status"], item["auto_approve_at"]) for item in attacker_items] == [
        ("pending", attacker_items[0]["auto_approve_at"]),
        ("rejected", None),
    ]
    assert attacker_items[1]["reason"] == (
        "The store's server reported this order on another partner's click."
    )
    assert [item["click"]["uuid"] for item in _feed(shop)] == [str(shop.click.uuid)]


def test_a_report_soon_after_a_bot_click_is_flagged_whichever_channel(client, shop):
    shop.click.is_bot = True
    shop.click.created_at = timezone.now() - timedelta(seconds=2)
    shop.click.save()

    response = _api_post(client, shop, transaction_report(shop))

    assert response.status_code == 201
    flags = response.json()["data"]["flags"]
    assert [flag["code"] for flag in flags] == ["bot_click", "too_fast"]
    assert flags[1]["reason"].endswith("the program's minimum is 10 s.")
    assert response.json()["data"]["auto_approve_at"] is None
    assert approve_due_conversions(now=FAR_FUTURE) == 0


def test_more_conversions_on_one_click_than_allowed_in_a_day_are_flagged(client, shop):
    for number in range(4):
        _beacon(client, transaction_report(shop, orderNumber=f"order-{number}"))

    flagged = Conversion.objects.filter(flags__code="click_reused")
    assert list(flagged.values_list("order_number", flat=True)) == ["order-3"]
    assert ConversionFlag.objects.get().reason == (
        "Conversion 4 on this click within 24 hours; the program allows 3."
    )
    assert approve_due_conversions(now=FAR_FUTURE) == 3


def test_a_program_that_needs_confirmation_holds_what_only_a_browser_reported(client, shop):
    # given
    shop.program.script_needs_confirmation = True
    shop.program.save()
    _beacon(client, transaction_report(shop))
    _beacon(client, transaction_report(shop, orderNumber="confirmed-later"))

    # when the store confirms one of the two
    response = _api_post(client, shop, transaction_report(shop, orderNumber="confirmed-later"))

    # then only that one has an approval date, and only it is approved when due
    assert response.json()["data"]["auto_approve_at"] is not None
    assert approve_due_conversions(now=FAR_FUTURE) == 1
    assert dict(Conversion.objects.values_list("order_number", "status")) == {
        "100234": "pending",
        "confirmed-later": "approved",
    }
