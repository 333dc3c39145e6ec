"""The feed's numbering among concurrent writers and sequencers, on real PostgreSQL.

Writers take no shared lock, so they commit in any order; these tests hold writers and
sequencers at the exact points where a numbering taken at write time, or in id order,
would skip or reorder a change.
"""

import threading
from collections import defaultdict

import psycopg
import pytest
from django.db import connection, transaction
from django.db.models import F

from conversions.models import ChangeAction, ChangeCounter, Conversion, ConversionChange
from conversions.services import record_change, sequence_committed_changes
from conversions.services.sequencing import _SEQUENCER_LOCK_KEY
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory
from tests.partners.celery_worker import database_url
from tests.partners.helpers import client_for, feed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 30  # seconds a thread waits for its cue before the test gives up on it


def _in_thread(work, errors: list) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _write(conversion, action=ChangeAction.CREATED) -> ConversionChange:
    with transaction.atomic():
        return record_change(conversion, action=action, actor="store:Test")


def test_a_change_committing_after_a_later_one_was_read_is_not_skipped():
    partner = PartnerFactory()
    client = client_for(partner)
    slow = ConversionFactory(click=ClickFactory(partner=partner))
    fast = ConversionFactory(click=ClickFactory(partner=partner))
    written, release, errors = threading.Event(), threading.Event(), []

    def slow_writer() -> None:
        with transaction.atomic():
            record_change(slow, action=ChangeAction.CREATED, actor="store:Slow")
            written.set()
            assert release.wait(WAIT)

    thread = _in_thread(slow_writer, errors)
    assert written.wait(WAIT)
    # Written after the slow change (a higher id) and committed before it.
    fast_change = _write(fast)
    first = feed(client).json()
    release.set()
    thread.join()
    second = feed(client, cursor=first["next_cursor"]).json()

    assert errors == []
    slow_change = ConversionChange.objects.get(conversion=slow)
    assert slow_change.pk < fast_change.pk
    assert [item["uuid"] for item in first["data"]] == [str(fast.uuid)]
    assert [item["uuid"] for item in second["data"]] == [str(slow.uuid)]
    assert second["data"][0]["change"] > first["data"][0]["change"]


def test_changes_of_one_conversion_are_numbered_in_the_order_they_were_made():
    conversion = ConversionFactory(order_sum=100, vat_sum=0)
    _write(conversion)
    holding, release, errors = threading.Event(), threading.Event(), []

    def amend(step: int, hold: bool) -> None:
        with transaction.atomic():
            locked = Conversion.objects.select_for_update().get(pk=conversion.pk)
            Conversion.objects.filter(pk=locked.pk).update(order_sum=F("order_sum") + step)
            record_change(locked, action=ChangeAction.AMENDED, actor="store:Test")
            if hold:
                holding.set()
                assert release.wait(WAIT)

    first = _in_thread(lambda: amend(10, hold=True), errors)
    assert holding.wait(WAIT)
    # Waits for the first amendment's row lock, so it writes its change after that commit.
    second = _in_thread(lambda: amend(1, hold=False), errors)
    # A run while the first amendment is open numbers only what is committed.
    sequence_committed_changes()
    release.set()
    first.join()
    second.join()
    sequence_committed_changes()

    assert errors == []
    history = list(
        ConversionChange.objects.filter(conversion=conversion)
        .order_by("sequence")
        .values_list("sequence", "snapshot")
    )
    assert [snapshot["order_sum"] for _, snapshot in history] == [100, 110, 111]
    assert [snapshot["change"] for _, snapshot in history] == [seq for seq, _ in history]


def test_a_rolled_back_writer_strands_nothing_and_leaves_no_gap():
    conversions = [ConversionFactory() for _ in range(3)]
    written, release, errors = threading.Event(), threading.Event(), []

    def doomed_writer() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            record_change(conversions[0], action=ChangeAction.CREATED, actor="store:Doomed")
            written.set()
            assert release.wait(WAIT)
            raise RuntimeError("the request failed after the change was written")

    thread = _in_thread(doomed_writer, errors)
    assert written.wait(WAIT)
    _write(conversions[1])
    sequence_committed_changes()
    release.set()
    thread.join()
    _write(conversions[2])
    sequence_committed_changes()

    assert errors == []
    numbers = list(ConversionChange.objects.order_by("sequence").values_list("sequence", flat=True))
    assert numbers == [numbers[0], numbers[0] + 1]
    assert not ConversionChange.objects.filter(sequence__isnull=True).exists()
    assert ChangeCounter.objects.get().last_sequence == numbers[-1]


def test_two_sequencers_at_once_number_every_committed_change_once_and_in_a_row():
    conversions = [ConversionFactory() for _ in range(8)]
    writers_done, errors = threading.Event(), []
    barrier = threading.Barrier(4)

    def writer(mine: list) -> None:
        barrier.wait()
        for _ in range(15):
            for conversion in mine:
                with transaction.atomic():
                    Conversion.objects.select_for_update().get(pk=conversion.pk)
                    record_change(conversion, action=ChangeAction.AMENDED, actor="store:W")

    def sequencer(wait: bool) -> None:
        barrier.wait()
        while not writers_done.is_set():
            sequence_committed_changes(wait=wait, batch_size=7)

    writers = [_in_thread(lambda: writer(conversions[:4]), errors)]
    writers.append(_in_thread(lambda: writer(conversions[4:]), errors))
    sequencers = [_in_thread(lambda: sequencer(True), errors)]
    sequencers.append(_in_thread(lambda: sequencer(False), errors))
    for thread in writers:
        thread.join()
    writers_done.set()
    for thread in sequencers:
        thread.join()
    sequence_committed_changes(max_runs=100)

    assert errors == []
    rows = list(ConversionChange.objects.values_list("sequence", "snapshot", "conversion_id", "id"))
    numbers = sorted(sequence for sequence, *_ in rows)
    assert len(rows) == 120
    assert numbers == list(range(numbers[0], numbers[0] + 120))
    assert all(snapshot["change"] == sequence for sequence, snapshot, *_ in rows)
    assert ChangeCounter.objects.get().last_sequence == numbers[-1]
    # Each conversion's changes, in the order they were written, have increasing numbers.
    by_conversion = defaultdict(list)
    for sequence, _, conversion_id, _ in sorted(rows, key=lambda row: row[3]):
        by_conversion[conversion_id].append(sequence)
    assert len(by_conversion) == 8
    assert all(numbers == sorted(numbers) for numbers in by_conversion.values())


def test_a_reader_never_waits_behind_a_running_sequencer():
    change = _write(ConversionFactory())
    with psycopg.connect(database_url()) as other, connection.cursor() as cursor:
        # Another sequencer's run, in progress.
        other.execute("SELECT pg_advisory_xact_lock(%s)", [_SEQUENCER_LOCK_KEY])
        # Were it to wait, the statement would fail instead of hanging the test.
        cursor.execute("SET statement_timeout = '10s'")
        try:
            assert sequence_committed_changes() == 0
        finally:
            cursor.execute("RESET statement_timeout")
        change.refresh_from_db()
        assert change.sequence is None
        other.rollback()

    assert sequence_committed_changes() == 1
    change.refresh_from_db()
    assert change.sequence is not None
