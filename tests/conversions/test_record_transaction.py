import json
from datetime import timedelta

import pytest
from django.utils import timezone

from conversions.models import Conversion, ConversionChange, ConversionSource, ProductLine
from conversions.selectors import conversion_document, conversions_with_relations
from conversions.services import (
    ConversionRefused,
    RecordedConversion,
    amend_transaction,
    record_conversion,
)
from stores.models import EventKind
from tests.factories import ClickFactory, EventFactory, LeadEventFactory, ProgramFactory
from tests.shop import transaction_payload

pytestmark = pytest.mark.django_db


def _record(payload, shop, **kwargs) -> RecordedConversion:
    """Record a transaction as the store API does (kwargs: the Idempotency-Key)."""
    return record_conversion(
        EventKind.TRANSACTION, payload, source=ConversionSource.API, store=shop.store, **kwargs
    )


def _record_from_tag(payload) -> RecordedConversion:
    """Record a transaction as the browser tag does: no store, so no store scoping."""
    return record_conversion(
        EventKind.TRANSACTION, payload, source=ConversionSource.SCRIPT, store=None
    )


def _refusal(payload, shop, **kwargs) -> ConversionRefused:
    with pytest.raises(ConversionRefused) as caught:
        _record(payload, shop, **kwargs)
    return caught.value


def _nothing_stored() -> bool:
    return not Conversion.objects.exists() and not ConversionChange.objects.exists()


def test_it_stores_a_transaction_with_commission_per_line(shop):
    # given the worked example: a shoe at 8 % and three socks at 12.5 %
    payload = transaction_payload(shop)

    # when
    recorded = _record(payload, shop)
    conversion, created = recorded.conversion, recorded.created

    # then 8 % of 1000 = 80; 12.5 % of 300 = 37.5, rounded half up to 38
    assert created is True
    conversion.refresh_from_db()
    assert conversion.kind == "transaction"
    assert conversion.status == "pending"
    assert conversion.order_number == "692549563"
    assert (conversion.order_sum, conversion.vat_sum, conversion.commission) == (1625, 325, 118)
    assert conversion.currency == "SEK"
    assert conversion.vouchers == ["SUMMER10"]
    assert conversion.source == "api"
    assert conversion.partner_id == shop.click.partner_id
    assert conversion.event_id == shop.shoes.pk
    assert conversion.commission_breakdown == [
        {
            "line": 0,
            "event": {"uuid": str(shop.shoes.uuid), "name": "Shoes"},
            "method": "percent_of_net",
            "base": 1000,
            "rate": "8",
            "result": 80,
        },
        {
            "line": 1,
            "event": {"uuid": str(shop.socks.uuid), "name": "Socks"},
            "method": "percent_of_net",
            "base": 300,
            "rate": "12.5",
            "result": 38,
        },
    ]
    lines = list(
        ProductLine.objects.order_by("position").values_list(
            "position", "event_id", "reference", "name", "quantity", "price", "vat", "commission"
        )
    )
    assert lines == [
        (0, shop.shoes.pk, "SKU-SHOE-42", "Running shoe", 1, 1250, 250, 80),
        (1, shop.socks.pk, "SKU-SOCK", "Sock", 3, 125, 25, 38),
    ]
    change = ConversionChange.objects.get()
    assert (change.action, change.actor) == ("created", "store:Awesome Store")
    assert change.snapshot["commission"] == 118


def test_a_transaction_without_lines_earns_on_its_net_amount(shop):
    payload = transaction_payload(shop, orderSum=10100, vatSum=2000)
    del payload["products"]

    conversion = _record(payload, shop).conversion

    # 8 % of 8100 = 648
    assert conversion.commission == 648
    assert conversion.commission_breakdown[0]["line"] is None
    assert conversion.commission_breakdown[0]["base"] == 8100
    assert ProductLine.objects.count() == 0


def test_a_fixed_event_earns_per_unit_on_a_line(shop):
    payload = transaction_payload(
        shop,
        orderSum=30000,
        vatSum=0,
        products=[
            {"event": str(shop.gift_card.uuid), "quantity": 3, "price": 10000, "vat": 0},
        ],
    )

    conversion = _record(payload, shop).conversion

    assert conversion.commission == 1500
    assert conversion.commission_breakdown[0]["method"] == "fixed_per_unit"
    assert conversion.commission_breakdown[0]["base"] == 3
    assert conversion.commission_breakdown[0]["rate"] == "500"


def test_a_fixed_order_event_earns_once_without_lines(shop):
    payload = transaction_payload(shop, event=str(shop.gift_card.uuid))
    del payload["products"]

    conversion = _record(payload, shop).conversion

    assert conversion.commission == 500
    assert conversion.commission_breakdown[0]["method"] == "fixed_per_conversion"


def test_the_same_report_again_returns_the_stored_conversion(shop):
    first = _record(transaction_payload(shop), shop).conversion

    # the same business fields, formatted differently (voucher as a list, other names)
    replay = transaction_payload(shop, voucher=None, vouchers=["SUMMER10"])
    del replay["voucher"]
    replay["products"][0]["name"] = "RUNNING SHOE"
    recorded = _record(replay, shop)
    again, created = recorded.conversion, recorded.created

    assert created is False
    assert again.pk == first.pk
    assert Conversion.objects.count() == 1
    assert ConversionChange.objects.count() == 1


def test_a_different_report_for_the_same_order_number_is_a_conflict(shop):
    first = _record(transaction_payload(shop), shop).conversion
    changed = transaction_payload(shop, voucher="OTHER")

    refusal = _refusal(changed, shop)

    assert (refusal.status, refusal.code) == (409, "duplicate_conflict")
    assert f"PATCH /api/v2/transactions/{first.uuid}" in refusal.message
    assert refusal.fields == {"orderNumber": ["already exists with different data"]}
    assert Conversion.objects.get().vouchers == ["SUMMER10"]
    assert ConversionChange.objects.count() == 1


def test_a_report_from_the_tag_and_then_the_api_is_stored_once_as_the_tags(shop):
    _record_from_tag(transaction_payload(shop))

    recorded = _record(transaction_payload(shop), shop)
    conversion, created = recorded.conversion, recorded.created

    assert created is False
    assert conversion.source == "script"
    assert ConversionChange.objects.get().actor == "tag"


def test_the_same_idempotency_key_and_report_returns_the_stored_conversion(shop):
    first = _record(transaction_payload(shop), shop, idempotency_key="key-1").conversion

    recorded = _record(transaction_payload(shop), shop, idempotency_key="key-1")
    again, created = recorded.conversion, recorded.created

    assert (again.pk, created) == (first.pk, False)
    assert Conversion.objects.get().idempotency_key == "key-1"


def test_the_same_idempotency_key_for_another_report_is_a_conflict(shop):
    _record(transaction_payload(shop), shop, idempotency_key="key-1")

    refusal = _refusal(
        transaction_payload(shop, orderNumber="692549564"), shop, idempotency_key="key-1"
    )

    assert (refusal.status, refusal.code) == (409, "idempotency_key_conflict")
    assert list(Conversion.objects.values_list("order_number", flat=True)) == ["692549563"]


def test_it_refuses_an_unusable_idempotency_key(shop):
    refusal = _refusal(transaction_payload(shop), shop, idempotency_key="bad\x00key")

    assert (refusal.status, refusal.code) == (400, "invalid")
    assert list(refusal.fields) == ["Idempotency-Key"]
    assert _nothing_stored()


def test_it_refuses_an_unknown_click(shop):
    payload = transaction_payload(shop, click="0190d7a6-3b3c-7000-8000-000000000000")

    refusal = _refusal(payload, shop)

    assert (refusal.status, refusal.code) == (422, "click_not_found")
    assert list(refusal.fields) == ["click"]
    assert _nothing_stored()


def test_it_refuses_a_click_of_another_stores_program(shop):
    other_click = ClickFactory()
    payload = transaction_payload(shop, click=str(other_click.uuid))

    refusal = _refusal(payload, shop)

    assert (refusal.status, refusal.code) == (422, "click_not_yours")
    assert _nothing_stored()


def test_it_refuses_an_expired_click(shop):
    shop.click.created_at = timezone.now() - timedelta(days=30, seconds=1)
    shop.click.save()

    refusal = _refusal(transaction_payload(shop), shop)

    assert (refusal.status, refusal.code) == (422, "click_expired")
    assert _nothing_stored()


def test_it_accepts_a_click_just_inside_the_attribution_window(shop):
    shop.click.created_at = timezone.now() - timedelta(days=29, hours=23)
    shop.click.save()

    created = _record(transaction_payload(shop), shop).created

    assert created is True


def test_it_refuses_an_event_of_another_program(shop):
    foreign = EventFactory(program=ProgramFactory(store=shop.store))
    payload = transaction_payload(shop)
    payload["products"][1]["event"] = str(foreign.uuid)

    refusal = _refusal(payload, shop)

    assert (refusal.status, refusal.code) == (422, "event_invalid")
    assert refusal.fields == {
        "products[1].event": ["is not a transaction event of the click's program"]
    }
    assert _nothing_stored()


def test_it_refuses_a_lead_event_for_a_transaction(shop):
    payload = transaction_payload(shop, event=str(shop.newsletter.uuid))

    refusal = _refusal(payload, shop)

    assert (refusal.status, refusal.code) == (422, "event_invalid")
    assert list(refusal.fields) == ["event"]
    assert _nothing_stored()


def test_it_refuses_another_currency(shop):
    refusal = _refusal(transaction_payload(shop, currency="NOK"), shop)

    assert (refusal.status, refusal.code) == (422, "currency_mismatch")
    assert refusal.fields == {"currency": ["must be SEK"]}
    assert _nothing_stored()


def test_it_accepts_conversions_for_a_paused_program(shop):
    shop.program.status = "paused"
    shop.program.save()

    created = _record(transaction_payload(shop), shop).created

    assert created is True


def test_the_tag_needs_no_store_and_takes_the_clicks_program(shop):
    recorded = _record_from_tag(transaction_payload(shop))
    conversion, created = recorded.conversion, recorded.created

    assert created is True
    assert conversion.program_id == shop.program.pk
    assert conversion.source == "script"


def test_a_lead_event_of_the_same_program_is_not_a_line_event(shop):
    payload = transaction_payload(shop)
    payload["products"][0]["event"] = str(LeadEventFactory(program=shop.program).uuid)

    refusal = _refusal(payload, shop)

    assert refusal.fields == {
        "products[0].event": ["is not a transaction event of the click's program"]
    }


def test_the_created_snapshot_is_the_document_of_the_stored_rows(shop):
    # given the create path builds its snapshot without re-reading what it wrote
    conversion = _record_from_tag(transaction_payload(shop)).conversion

    snapshot = dict(ConversionChange.objects.get().snapshot)
    sequence = snapshot.pop("change")
    change_type = snapshot.pop("change_type")

    stored = conversion_document(conversions_with_relations().get(pk=conversion.pk))
    assert snapshot == json.loads(json.dumps(stored))
    assert sequence == ConversionChange.objects.get().sequence
    assert change_type == "created"


def test_a_replay_is_answered_even_after_its_click_has_expired(shop):
    first = _record(transaction_payload(shop), shop).conversion
    shop.click.created_at = timezone.now() - timedelta(days=31)
    shop.click.save()

    recorded = _record(transaction_payload(shop), shop)
    again, created = recorded.conversion, recorded.created

    assert (again.pk, created) == (first.pk, False)
    assert ConversionChange.objects.count() == 1


def test_a_replay_after_an_amendment_answers_the_amended_record(shop):
    first = _record(transaction_payload(shop), shop).conversion
    amend_transaction(first, {"orderSum": 1625, "vatSum": 325, "products": []}, actor="store:x")

    recorded = _record(transaction_payload(shop), shop)
    again, created = recorded.conversion, recorded.created

    assert created is False
    assert (again.pk, again.commission) == (first.pk, 104)
