"""Racing writers on real PostgreSQL: the database constraints decide, not a prior read."""

import json
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from conversions.models import Conversion, ConversionChange, ConversionSource
from conversions.services import (
    ConversionRefused,
    approve_due_conversions,
    record_conversion,
    reject_conversion,
)
from stores.models import EventKind
from tests.factories import ConversionFactory
from tests.shop import transaction_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(work: Callable[[int], object]) -> list[object]:
    """Run `work(index)` in THREADS threads released together; each result or exception."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # the test inspects what each thread met
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _report(payload: dict, shop) -> tuple[Conversion, bool]:
    """Record the report as the store API does: (conversion, created)."""
    recorded = record_conversion(
        EventKind.TRANSACTION, payload, source=ConversionSource.API, store=shop.store
    )
    return recorded.conversion, recorded.created


def test_identical_reports_racing_store_one_transaction(shop):
    payload = transaction_payload(shop)

    results = _race(lambda _: _report(payload, shop))

    assert all(isinstance(result, tuple) for result in results), results
    assert sorted(created for _, created in results) == [False] * (THREADS - 1) + [True]
    assert {conversion.pk for conversion, _ in results} == {Conversion.objects.get().pk}
    assert list(ConversionChange.objects.values_list("action", flat=True)) == ["created"]


def test_different_reports_racing_for_one_order_number_store_one_and_refuse_the_rest(shop):
    results = _race(lambda index: _report(transaction_payload(shop, voucher=f"V{index}"), shop))

    stored = [result for result in results if isinstance(result, tuple)]
    refused = [result for result in results if isinstance(result, ConversionRefused)]
    assert len(stored) == 1
    assert [refusal.code for refusal in refused] == ["duplicate_conflict"] * (THREADS - 1)
    assert Conversion.objects.count() == 1
    assert ConversionChange.objects.count() == 1


def test_racing_auto_approval_runs_approve_each_conversion_once(shop):
    now = timezone.now()
    for _ in range(20):
        ConversionFactory(click=shop.click, event=shop.shoes, created_at=now - timedelta(days=46))

    results = _race(lambda _: approve_due_conversions(now=now, batch_size=5))

    assert sum(results) == 20
    assert Conversion.objects.filter(status="approved").count() == 20
    assert ConversionChange.objects.filter(action="approved").count() == 20


def test_a_rejection_racing_the_auto_approval_leaves_one_decision(shop):
    now = timezone.now()
    conversion = ConversionFactory(
        click=shop.click, event=shop.shoes, created_at=now - timedelta(days=46)
    )

    def work(index: int):
        if index % 2:
            return approve_due_conversions(now=now)
        return reject_conversion(conversion, actor="store:Awesome Store", reason="Cancelled")

    _race(work)

    conversion.refresh_from_db()
    changes = list(ConversionChange.objects.values_list("action", flat=True))
    assert changes == [conversion.status]


def test_identical_requests_racing_through_the_api_get_one_record_and_one_answer(
    shop, store_secret
):
    payload = transaction_payload(shop)

    def post(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {store_secret}")
        response = client.post("/api/v2/transactions", payload, format="json")
        return response.status_code, response.json()

    results = _race(post)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert len({json.dumps(body, sort_keys=True) for _, body in results}) == 1
    assert Conversion.objects.count() == 1
    assert list(ConversionChange.objects.values_list("action", flat=True)) == ["created"]
