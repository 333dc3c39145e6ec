"""The sequencer: changes are written unnumbered and numbered once committed, in order."""

import json
import uuid

import pytest
from django.core.management import call_command
from django.db import transaction

from conversions.claims.selectors import claim_document
from conversions.claims.services import decline_claim, file_claim
from conversions.models import ChangeAction, ChangeCounter, ConversionChange
from conversions.services import record_change, sequence_committed_changes
from conversions.tasks import sequence_changes_job
from partners.models import WebhookDelivery
from partners.selectors import partner_conversion_snapshot, partner_feed_page
from retrack.jobs.models import JobRun
from tests.conversions.claim_helpers import claim_payload
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory
from tests.partners.webhooks import endpoint_for

pytestmark = pytest.mark.django_db


def _write(conversion, action=ChangeAction.CREATED) -> ConversionChange:
    with transaction.atomic():
        return record_change(conversion, action=action, actor="store:Test")


def _numbers() -> list[int | None]:
    return list(ConversionChange.objects.order_by("id").values_list("sequence", flat=True))


def test_a_change_is_written_without_a_number_and_numbered_by_the_sequencer():
    partner = PartnerFactory()
    conversion = ConversionFactory(click=ClickFactory(partner=partner))
    ChangeCounter.objects.update_or_create(pk=1, defaults={"last_sequence": 41})

    change = _write(conversion)

    assert (change.sequence, change.snapshot["change"]) == (None, None)
    assert partner_feed_page(partner, after_sequence=0, limit=10).snapshots == []
    assert partner_conversion_snapshot(partner, conversion.uuid) is None

    assert sequence_committed_changes() == 1

    change.refresh_from_db()
    assert change.sequence == 42
    assert change.snapshot["change"] == 42
    assert change.snapshot["change_type"] == "created"
    assert ChangeCounter.objects.get().last_sequence == 42
    [item] = partner_feed_page(partner, after_sequence=0, limit=10).snapshots
    assert json.loads(item) == change.snapshot
    assert json.loads(partner_conversion_snapshot(partner, conversion.uuid))["change"] == 42


def test_it_numbers_in_the_order_the_changes_were_written_and_only_once():
    conversion = ConversionFactory()
    first = _write(conversion)
    second = _write(conversion, ChangeAction.APPROVED)
    other = _write(ConversionFactory())

    assert sequence_committed_changes() == 3
    assert sequence_committed_changes() == 0

    assert _numbers() == [1, 2, 3]
    assert [change.pk for change in (first, second, other)] == sorted(
        ConversionChange.objects.values_list("pk", flat=True)
    )
    assert ChangeCounter.objects.get().last_sequence == 3


def test_a_full_batch_leaves_the_rest_to_the_next_run():
    for _ in range(5):
        _write(ConversionFactory())

    assert sequence_committed_changes(batch_size=2) == 2
    assert _numbers() == [1, 2, None, None, None]
    assert sequence_committed_changes(batch_size=2, max_runs=5) == 3
    assert _numbers() == [1, 2, 3, 4, 5]


def test_a_rolled_back_writer_leaves_no_gap_and_no_unnumbered_row():
    conversion = ConversionFactory()
    _write(conversion)

    with pytest.raises(RuntimeError), transaction.atomic():
        record_change(conversion, action=ChangeAction.APPROVED, actor="store:Test")
        raise RuntimeError("the order failed after the change was written")
    _write(ConversionFactory())
    sequence_committed_changes()

    assert _numbers() == [1, 2]
    assert not ConversionChange.objects.filter(sequence__isnull=True).exists()
    assert ChangeCounter.objects.get().last_sequence == 2


def test_a_lost_counter_row_is_remade_at_the_highest_number_in_use():
    for _ in range(3):
        _write(ConversionFactory())
    sequence_committed_changes()
    ChangeCounter.objects.all().delete()

    _write(ConversionFactory())
    sequence_committed_changes()

    assert _numbers() == [1, 2, 3, 4]
    assert ChangeCounter.objects.get().last_sequence == 4


def test_a_numbered_change_gets_its_deliveries_carrying_its_number():
    partner = PartnerFactory()
    endpoint, _ = endpoint_for(partner, "https://93.184.215.14/hooks")
    ChangeCounter.objects.update_or_create(pk=1, defaults={"last_sequence": 700})

    change = _write(ConversionFactory(click=ClickFactory(partner=partner)))

    assert not WebhookDelivery.objects.exists()
    sequence_committed_changes()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    body = json.loads(delivery.body)
    change.refresh_from_db()
    assert change.sequence == 701
    assert body["data"]["change"] == 701
    assert body["data"] == change.snapshot
    assert delivery.event_id == uuid.uuid5(
        uuid.UUID("5b0f7a53-3b0e-4c55-9d0e-7f2f1c3c8a21"), "conversion-change:701"
    )


def test_a_test_conversions_change_is_numbered_but_never_pushed():
    partner = PartnerFactory()
    endpoint_for(partner, "https://93.184.215.14/hooks")

    _write(ConversionFactory(click=ClickFactory(partner=partner), test=True))
    sequence_committed_changes()

    assert _numbers() == [1]
    assert not WebhookDelivery.objects.exists()
    assert partner_feed_page(partner, after_sequence=0, limit=10).snapshots == []


def test_the_job_numbers_what_is_committed_and_records_its_run():
    _write(ConversionFactory())
    _write(ConversionFactory())

    summary = sequence_changes_job()

    assert summary == "Numbered 2 changes."
    assert _numbers() == [1, 2]
    run = JobRun.objects.get(name="sequence_changes")
    assert (run.succeeded, run.summary) == (True, "Numbered 2 changes.")


def test_the_command_numbers_what_is_committed(capsys):
    _write(ConversionFactory())

    call_command("sequence_changes")

    assert capsys.readouterr().out == "Numbered 1 change.\n"
    assert _numbers() == [1]


def test_a_claim_is_numbered_before_its_answer_and_again_when_decided(claim_click):
    _write(ConversionFactory())

    filed = file_claim(claim_click.partner, claim_payload(claim_click)).claim
    declined = decline_claim(filed, "Returned in full.", actor="store:Awesome Store")

    # The conversion's change, written before, took the first number in the same run.
    assert _numbers() == [1]
    assert (filed.sequence, claim_document(filed)["change"]) == (2, 2)
    assert (declined.sequence, claim_document(declined)["change"]) == (3, 3)
    assert ChangeCounter.objects.get().last_sequence == 3
