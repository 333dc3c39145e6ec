"""A program's limits on the store API: a report over one is refused with 422 limit_exceeded."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from conversions.models import Conversion, ConversionChange, ConversionFlag, ConversionSource
from conversions.services import record_conversion
from tests.factories import ConversionFactory
from tests.shop import lead_payload, transaction_payload

pytestmark = pytest.mark.django_db

URL = "/api/v2/transactions"


def _post(client, payload, url=URL):
    return client.post(url, payload, format="json")


def _error(response) -> tuple[int, str, dict]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["fields"]


def test_it_refuses_a_line_quantity_over_the_limit_and_stores_nothing(shop, store_client):
    shop.program.max_line_quantity = 2
    shop.program.save()

    response = _post(store_client, transaction_payload(shop))

    assert _error(response) == (
        422,
        "limit_exceeded",
        {"products[1].quantity": ["is over the program's limit of 2 per line"]},
    )
    assert (Conversion.objects.count(), ConversionChange.objects.count()) == (0, 0)


def test_it_refuses_an_order_sum_and_a_commission_over_the_limits(shop, store_client):
    shop.program.max_order_sum = 1624
    shop.program.max_commission = 117
    shop.program.save()

    response = _post(store_client, transaction_payload(shop))

    assert _error(response) == (
        422,
        "limit_exceeded",
        {
            "orderSum": ["is over the program's limit of 1624"],
            "commission": ["would be 118, over the program's limit of 117"],
        },
    )
    assert Conversion.objects.count() == 0


def test_it_refuses_a_lead_whose_commission_is_over_the_limit(shop, store_client):
    shop.program.max_commission = 3999
    shop.program.save()

    response = _post(store_client, lead_payload(shop), url="/api/v2/leads")

    assert _error(response)[:2] == (422, "limit_exceeded")
    assert Conversion.objects.count() == 0


def test_a_report_at_the_limits_is_stored_unflagged(shop, store_client):
    shop.program.max_order_sum = 1625
    shop.program.max_line_quantity = 3
    shop.program.max_commission = 118
    shop.program.save()

    response = _post(store_client, transaction_payload(shop))

    assert response.status_code == 201
    assert response.json()["data"]["flags"] == []
    assert response.json()["data"]["auto_approve_at"] == (
        Conversion.objects.get().created_at + timedelta(days=45)
    ).isoformat().replace("+00:00", "Z")


def test_a_replay_is_answered_after_the_limits_were_lowered(shop, store_client):
    first = _post(store_client, transaction_payload(shop))
    shop.program.max_order_sum = 100
    shop.program.save()

    again = _post(store_client, transaction_payload(shop))

    assert (first.status_code, again.status_code) == (201, 200)
    assert Conversion.objects.count() == 1


def test_an_amendment_over_the_limit_is_refused_and_changes_nothing(shop, store_client):
    conversion = record_conversion(
        "transaction",
        transaction_payload(shop, products=[]),
        source=ConversionSource.API,
        store=shop.store,
    ).conversion
    shop.program.max_order_sum = 2000
    shop.program.save()

    response = store_client.patch(
        f"{URL}/{conversion.uuid}", {"orderSum": 2001, "vatSum": 0}, format="json"
    )

    assert _error(response) == (
        422,
        "limit_exceeded",
        {"orderSum": ["is over the program's limit of 2000"]},
    )
    conversion.refresh_from_db()
    assert (conversion.order_sum, conversion.vat_sum) == (1625, 325)
    assert ConversionChange.objects.count() == 1


def test_the_stores_amendment_confirms_a_browser_report_and_clears_its_limit_flag(
    shop, store_client
):
    # given a browser report over the order sum limit, stored and flagged
    shop.program.max_order_sum = 1000
    shop.program.save()
    conversion = record_conversion(
        "transaction",
        transaction_payload(shop, products=[]),
        source=ConversionSource.SCRIPT,
        store=None,
    ).conversion
    assert list(ConversionFlag.objects.values_list("code", flat=True)) == ["limit_exceeded"]

    # when the store amends it to its real sums
    response = store_client.patch(
        f"{URL}/{conversion.uuid}", {"orderSum": 1000, "vatSum": 200}, format="json"
    )

    # then it is confirmed and no flag holds it any more
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["confirmed"], data["flags"], data["order_sum"]) == (True, [], 1000)
    assert data["auto_approve_at"] is not None
    flag = ConversionFlag.objects.get()
    assert flag.cleared_by == "store:Awesome Store"
    change = ConversionChange.objects.order_by("id").last()
    assert (change.changes["confirmed"], change.changes["flags"]) == (
        [False, True],
        [["limit_exceeded"], []],
    )


def test_the_database_keeps_one_open_flag_per_code():
    conversion = ConversionFactory()
    ConversionFlag.objects.create(conversion=conversion, code="too_fast", reason="2 s")

    with pytest.raises(IntegrityError), transaction.atomic():
        ConversionFlag.objects.create(conversion=conversion, code="too_fast", reason="3 s")

    assert ConversionFlag.objects.count() == 1


def test_the_database_refuses_a_flag_cleared_by_nobody_or_of_an_unknown_code():
    conversion = ConversionFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ConversionFlag.objects.create(
            conversion=conversion, code="too_fast", reason="2 s", cleared_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ConversionFlag.objects.create(conversion=conversion, code="suspicious", reason="?")

    assert ConversionFlag.objects.count() == 0


def test_the_database_refuses_an_api_report_that_is_not_confirmed():
    with pytest.raises(IntegrityError), transaction.atomic():
        ConversionFactory(source="api", confirmed=False)

    assert Conversion.objects.count() == 0
