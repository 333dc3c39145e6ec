import pytest
from django.db import transaction

from conversions.models import ChangeAction, ChangeCounter, ConversionChange
from conversions.services import record_change, sequence_committed_changes
from tests.factories import ConversionFactory

pytestmark = pytest.mark.django_db


def test_each_change_gets_the_next_sequence_number_and_a_snapshot():
    conversion = ConversionFactory(order_number="692549563")

    with transaction.atomic():
        created = record_change(conversion, action=ChangeAction.CREATED, actor="store:Demo")
    assert (created.sequence, created.snapshot["change"]) == (None, None)
    conversion.status = "rejected"
    conversion.status_reason = "Order cancelled"
    conversion.save()
    with transaction.atomic():
        rejected = record_change(
            conversion,
            action=ChangeAction.REJECTED,
            actor="store:Demo",
            changes={"status": ["pending", "rejected"]},
            reason="Order cancelled",
        )
    sequence_committed_changes()
    created.refresh_from_db()
    rejected.refresh_from_db()

    assert rejected.sequence == created.sequence + 1
    assert created.snapshot["status"] == "pending"
    assert created.snapshot["change"] == created.sequence
    assert rejected.snapshot["status"] == "rejected"
    assert rejected.snapshot["reason"] == "Order cancelled"
    assert rejected.snapshot["order_number"] == "692549563"
    assert rejected.snapshot["click"]["ref"] == conversion.click.ref
    assert rejected.partner_id == conversion.partner_id
    assert list(conversion.changes.values_list("action", flat=True)) == ["created", "rejected"]


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_run_outside_a_transaction():
    conversion = ConversionFactory()

    with pytest.raises(RuntimeError):
        record_change(conversion, action=ChangeAction.CREATED, actor="store:Demo")
    assert ConversionChange.objects.count() == 0


def test_it_remakes_a_lost_counter_row():
    conversion = ConversionFactory()
    ChangeCounter.objects.all().delete()

    with transaction.atomic():
        change = record_change(conversion, action=ChangeAction.CREATED, actor="store:Demo")
    sequence_committed_changes()
    change.refresh_from_db()

    assert change.sequence == 1
    assert ChangeCounter.objects.get().last_sequence == 1
