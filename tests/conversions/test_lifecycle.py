from datetime import timedelta

import pytest
from django.utils import timezone

from conversions.models import Conversion, ConversionChange, ConversionSource, ProductLine
from conversions.services import (
    ConversionRefused,
    amend_lead,
    amend_transaction,
    approve_conversion,
    approve_due_conversions,
    record_conversion,
    reject_conversion,
)
from stores.models import EventKind
from tests.factories import ConversionFactory, EventFactory, ProgramFactory
from tests.shop import lead_payload, transaction_payload

pytestmark = pytest.mark.django_db

STORE_ACTOR = "store:Awesome Store"


def _transaction(shop) -> Conversion:
    return record_conversion(
        EventKind.TRANSACTION,
        transaction_payload(shop),
        source=ConversionSource.API,
        store=shop.store,
    ).conversion


def _actions(conversion) -> list[str]:
    return list(conversion.changes.order_by("id").values_list("action", flat=True))


def test_a_lead_earns_its_fixed_amount(shop):
    recorded = record_conversion(
        EventKind.LEAD,
        lead_payload(shop, voucher="WELCOME"),
        source=ConversionSource.API,
        store=shop.store,
    )
    conversion, created = recorded.conversion, recorded.created

    conversion.refresh_from_db()
    assert created is True
    assert (conversion.kind, conversion.reference, conversion.commission) == (
        "lead",
        "member-1001",
        4000,
    )
    assert (conversion.order_number, conversion.order_sum, conversion.currency) == (None, 0, "SEK")
    assert conversion.vouchers == ["WELCOME"]
    assert conversion.commission_breakdown[0]["method"] == "fixed_per_conversion"


def test_a_lead_replay_returns_the_stored_lead_and_a_change_is_a_conflict(shop):
    first = record_conversion(
        EventKind.LEAD, lead_payload(shop), source=ConversionSource.API, store=shop.store
    ).conversion

    recorded = record_conversion(
        EventKind.LEAD, lead_payload(shop), source=ConversionSource.API, store=shop.store
    )
    again, created = recorded.conversion, recorded.created
    with pytest.raises(ConversionRefused) as caught:
        record_conversion(
            EventKind.LEAD,
            lead_payload(shop, voucher="OTHER"),
            source=ConversionSource.API,
            store=shop.store,
        )

    assert (again.pk, created) == (first.pk, False)
    assert caught.value.code == "duplicate_conflict"
    assert f"PATCH /api/v2/leads/{first.uuid}" in caught.value.message
    assert Conversion.objects.count() == 1


def test_a_lead_with_a_transaction_event_is_refused(shop):
    with pytest.raises(ConversionRefused) as caught:
        record_conversion(
            EventKind.LEAD,
            lead_payload(shop, event=str(shop.shoes.uuid)),
            source=ConversionSource.API,
            store=shop.store,
        )

    assert caught.value.code == "event_invalid"
    assert not Conversion.objects.exists()


def test_a_partial_return_recomputes_the_commission_and_records_old_and_new(shop):
    # given the worked example (1625, commission 118); the customer returns two socks
    conversion = _transaction(shop)
    products = transaction_payload(shop)["products"]
    products[1]["quantity"] = 1

    # when
    amended = amend_transaction(conversion, {"products": products}, actor=STORE_ACTOR)

    # then sums follow the lines: 1250 + 125 = 1375, VAT 275; 80 + 12.5 % of 100 = 93
    amended.refresh_from_db()
    assert (amended.order_sum, amended.vat_sum, amended.commission) == (1375, 275, 93)
    assert list(ProductLine.objects.order_by("position").values_list("quantity", "commission")) == [
        (1, 80),
        (1, 13),
    ]
    change = amended.changes.order_by("id").last()
    assert (change.action, change.actor) == ("amended", STORE_ACTOR)
    assert change.changes["order_sum"] == [1625, 1375]
    assert change.changes["vat_sum"] == [325, 275]
    assert change.changes["commission"] == [118, 93]
    assert [line["quantity"] for line in change.changes["products"][0]] == [1, 3]
    assert [line["quantity"] for line in change.changes["products"][1]] == [1, 1]
    assert change.snapshot["commission"] == 93
    assert amended.updated_at > amended.created_at


def test_new_sums_that_do_not_match_the_lines_are_refused(shop):
    conversion = _transaction(shop)

    with pytest.raises(ConversionRefused) as caught:
        amend_transaction(conversion, {"orderSum": 1000}, actor=STORE_ACTOR)

    assert (caught.value.status, list(caught.value.fields)) == (400, ["products"])
    conversion.refresh_from_db()
    assert (conversion.order_sum, conversion.commission) == (1625, 118)
    assert _actions(conversion) == ["created"]


def test_a_transaction_without_lines_takes_new_sums(shop):
    payload = transaction_payload(shop, orderSum=10100, vatSum=2000)
    del payload["products"]
    conversion = record_conversion(
        EventKind.TRANSACTION, payload, source=ConversionSource.API, store=shop.store
    ).conversion

    amended = amend_transaction(conversion, {"orderSum": 5050, "vatSum": 1000}, actor=STORE_ACTOR)

    # 8 % of 4050 = 324
    assert (amended.order_sum, amended.vat_sum, amended.commission) == (5050, 1000, 324)


def test_an_amendment_that_changes_nothing_writes_nothing(shop):
    conversion = _transaction(shop)

    amend_transaction(conversion, {"orderSum": 1625}, actor=STORE_ACTOR)

    assert _actions(conversion) == ["created"]


def test_an_amendment_with_an_event_of_another_program_is_refused(shop):
    conversion = _transaction(shop)
    foreign = EventFactory(program=ProgramFactory())
    products = transaction_payload(shop)["products"]
    products[0]["event"] = str(foreign.uuid)

    with pytest.raises(ConversionRefused) as caught:
        amend_transaction(conversion, {"products": products}, actor=STORE_ACTOR)

    assert caught.value.code == "event_invalid"
    assert ProductLine.objects.filter(event=foreign).count() == 0
    assert _actions(conversion) == ["created"]


def test_a_store_rejects_a_transaction_with_a_reason(shop):
    conversion = _transaction(shop)

    rejected = amend_transaction(
        conversion, {"status": "rejected", "reason": "Order cancelled"}, actor=STORE_ACTOR
    )

    rejected.refresh_from_db()
    assert (rejected.status, rejected.status_reason) == ("rejected", "Order cancelled")
    change = rejected.changes.order_by("id").last()
    assert (change.action, change.reason, change.changes) == (
        "rejected",
        "Order cancelled",
        {"status": ["pending", "rejected"]},
    )


def test_a_rejected_conversion_cannot_be_amended(shop):
    conversion = _transaction(shop)
    reject_conversion(conversion, actor=STORE_ACTOR, reason="Order cancelled")

    with pytest.raises(ConversionRefused) as caught:
        amend_transaction(conversion, {"orderSum": 1625, "vatSum": 0}, actor=STORE_ACTOR)

    assert (caught.value.status, caught.value.code) == (409, "conversion_not_pending")
    conversion.refresh_from_db()
    assert conversion.vat_sum == 325
    assert _actions(conversion) == ["created", "rejected"]


def test_an_approved_conversion_cannot_be_rejected(shop):
    conversion = _transaction(shop)
    approve_conversion(conversion, actor="operator:anna")

    with pytest.raises(ConversionRefused) as caught:
        reject_conversion(conversion, actor=STORE_ACTOR, reason="Too late")

    assert (caught.value.status, caught.value.code) == (409, "conversion_not_pending")
    conversion.refresh_from_db()
    assert conversion.status == "approved"
    assert _actions(conversion) == ["created", "approved"]


def test_a_rejection_without_a_reason_is_refused(shop):
    conversion = _transaction(shop)

    with pytest.raises(ConversionRefused) as caught:
        reject_conversion(conversion, actor="operator:anna", reason="  ")

    assert caught.value.fields == {"reason": ["is required to reject"]}
    conversion.refresh_from_db()
    assert conversion.status == "pending"


def test_a_lead_can_only_be_rejected(shop):
    lead = record_conversion(
        EventKind.LEAD, lead_payload(shop), source=ConversionSource.API, store=shop.store
    ).conversion

    with pytest.raises(ConversionRefused) as caught:
        amend_lead(lead, {"orderSum": 1}, actor=STORE_ACTOR)
    rejected = amend_lead(lead, {"status": "rejected", "reason": "Fake sign-up"}, actor=STORE_ACTOR)

    assert caught.value.fields["orderSum"] == ["is not a known field"]
    assert (rejected.status, rejected.status_reason) == ("rejected", "Fake sign-up")


def test_due_conversions_are_approved_once_by_the_system(shop):
    # given a program validating for 45 days, and conversions 46, 44 and 50 days old
    now = timezone.now()
    due = ConversionFactory(click=shop.click, event=shop.shoes, created_at=now - timedelta(days=46))
    not_yet = ConversionFactory(
        click=shop.click, event=shop.shoes, created_at=now - timedelta(days=44)
    )
    rejected = ConversionFactory(
        click=shop.click,
        event=shop.shoes,
        created_at=now - timedelta(days=50),
        status="rejected",
    )

    # when the job runs twice, in batches of one
    first_run = approve_due_conversions(now=now, batch_size=1)
    second_run = approve_due_conversions(now=now, batch_size=1)

    # then
    assert (first_run, second_run) == (1, 0)
    statuses = dict(Conversion.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "approved", not_yet.pk: "pending", rejected.pk: "rejected"}
    change = ConversionChange.objects.get()
    assert (change.conversion_id, change.action, change.actor) == (
        due.pk,
        "approved",
        "system:auto-approval",
    )
    assert change.reason == "Validation period of 45 days passed."


def test_due_conversions_follow_each_programs_validation_period(shop):
    now = timezone.now()
    quick = ProgramFactory(validation_days=7)
    quick_conversion = ConversionFactory(
        click__program=quick, event__program=quick, created_at=now - timedelta(days=8)
    )
    slow_conversion = ConversionFactory(
        click=shop.click, event=shop.shoes, created_at=now - timedelta(days=8)
    )

    approved = approve_due_conversions(now=now, batch_size=500)

    assert approved == 1
    quick_conversion.refresh_from_db()
    slow_conversion.refresh_from_db()
    assert (quick_conversion.status, slow_conversion.status) == ("approved", "pending")
