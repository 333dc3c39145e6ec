"""The feed under concurrent writers: every change seen exactly once, in order.

Writer threads create and amend conversions for a couple of seconds while a poller thread
follows the feed through the API with `next_cursor`; then the poller drains it. Two ways
of being slow are tried, each aimed at a different way a feed can skip:

- slow to commit after taking the sequence: a writer sleeps between `record_change` and
  its commit. A sequence number that others could take meanwhile (a database sequence)
  would let change N+1 commit and be read before N, and N would be skipped; with the
  counter's row lock the next writer waits for that commit instead.
- long interleaving transactions: a writer sleeps before `record_change`, so many
  transactions overlap and commit in another order than they began. A number taken when
  the write begins (an auto-increment id, a timestamp) would skip here.
"""

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from conversions.models import (
    ChangeAction,
    Conversion,
    ConversionChange,
    ConversionSource,
    ConversionStatus,
)
from conversions.services import record_change
from tests.factories import ClickFactory, EventFactory, PartnerFactory, ProgramFactory
from tests.partners.helpers import client_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 4
WRITE_SECONDS = 2.0
AMOUNT_STEP = 100


@dataclass(frozen=True)
class Pace:
    """Seconds a writer sleeps inside its transaction, before and after `record_change`."""

    before_sequence: tuple[float, float]
    after_sequence: tuple[float, float]


@dataclass
class Shared:
    clicks: dict
    event_pk: int
    pace: Pace
    deadline: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[int] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    writers_done: threading.Event = field(default_factory=threading.Event)


def _nap(bounds: tuple[float, float]) -> None:
    if bounds[1]:
        time.sleep(random.uniform(*bounds))


def _create(shared: Shared, partner_key: str, number: int) -> int:
    click = shared.clicks[partner_key]
    with transaction.atomic():
        conversion = Conversion.objects.create(
            kind="transaction",
            program_id=click.program_id,
            partner_id=click.partner_id,
            click_id=click.pk,
            event_id=shared.event_pk,
            order_number=f"{partner_key}-{threading.get_ident()}-{number}",
            order_sum=AMOUNT_STEP,
            vat_sum=0,
            currency="SEK",
            source=ConversionSource.API,
        )
        _nap(shared.pace.before_sequence)
        record_change(conversion, action=ChangeAction.CREATED, actor="store:Writer")
        _nap(shared.pace.after_sequence)
    return conversion.pk


def _amend_or_settle(shared: Shared, conversion_pk: int) -> bool:
    """Add AMOUNT_STEP to the order, or now and then approve it; False once it is settled."""
    settle = random.random() < 0.1
    with transaction.atomic():
        conversion = Conversion.objects.select_for_update().get(pk=conversion_pk)
        if conversion.status != ConversionStatus.PENDING:
            return False
        if settle:
            conversion.status = ConversionStatus.APPROVED
            action = ChangeAction.APPROVED
        else:
            conversion.order_sum = F("order_sum") + AMOUNT_STEP
            action = ChangeAction.AMENDED
        conversion.updated_at = timezone.now()
        conversion.save(update_fields=["status", "order_sum", "updated_at"])
        _nap(shared.pace.before_sequence)
        record_change(conversion, action=action, actor="store:Writer")
        _nap(shared.pace.after_sequence)
    return not settle


def _write(shared: Shared) -> None:
    try:
        number = 0
        while time.monotonic() < shared.deadline:
            number += 1
            with shared.lock:
                target = random.choice(shared.pending) if shared.pending else None
            if target is None or random.random() < 0.4:
                partner_key = "followed" if random.random() < 0.8 else "other"
                created = _create(shared, partner_key, number)
                with shared.lock:
                    shared.pending.append(created)
            elif not _amend_or_settle(shared, target):
                with shared.lock:
                    if target in shared.pending:
                        shared.pending.remove(target)
    except BaseException as error:
        shared.errors.append(error)
    finally:
        connections.close_all()


def _poll(shared: Shared, client, seen: list[dict]) -> None:
    try:
        cursor = ""
        while True:
            writers_were_done = shared.writers_done.is_set()
            page = client.get(
                "/api/v2/partner/conversions", {"cursor": cursor, "limit": random.randint(1, 13)}
            )
            assert page.status_code == 200, page.content
            body = page.json()
            seen.extend(body["data"])
            cursor = body["next_cursor"]
            if writers_were_done and not body["has_more"]:
                return
    except BaseException as error:
        shared.errors.append(error)
    finally:
        connections.close_all()


def _run(pace: Pace):
    followed = PartnerFactory(name="Refunder SE")
    other = PartnerFactory(name="Refunder NO")
    program = ProgramFactory()
    event = EventFactory(program=program)
    shared = Shared(
        clicks={
            "followed": ClickFactory(partner=followed, program=program),
            "other": ClickFactory(partner=other, program=program),
        },
        event_pk=event.pk,
        pace=pace,
        deadline=time.monotonic() + WRITE_SECONDS,
    )
    seen: list[dict] = []
    client = client_for(followed)
    writers = [threading.Thread(target=_write, args=(shared,)) for _ in range(WRITERS)]
    poller = threading.Thread(target=_poll, args=(shared, client, seen))
    for thread in [*writers, poller]:
        thread.start()
    for writer in writers:
        writer.join()
    shared.writers_done.set()
    poller.join()
    assert shared.errors == []
    return followed, seen


def _assert_seen_exactly_once_in_order(followed, seen: list[dict]) -> None:
    history = list(
        ConversionChange.objects.filter(partner=followed)
        .order_by("sequence")
        .values_list("sequence", "action", "conversion__uuid", "snapshot")
    )
    seen_sequences = [item["change"] for item in seen]
    assert seen_sequences == [sequence for sequence, *_ in history]
    assert seen_sequences == sorted(set(seen_sequences))
    assert seen == [snapshot for *_, snapshot in history]

    actions_by_conversion = defaultdict(list)
    for _, action, conversion_uuid, _ in history:
        actions_by_conversion[str(conversion_uuid)].append(action)
    seen_by_conversion = defaultdict(list)
    for item in seen:
        seen_by_conversion[item["uuid"]].append(item)
    assert seen_by_conversion.keys() == actions_by_conversion.keys()
    for conversion_uuid, items in seen_by_conversion.items():
        actions = actions_by_conversion[conversion_uuid]
        assert actions[0] == ChangeAction.CREATED
        assert actions.count(ChangeAction.CREATED) == 1
        # Each amendment added one step, in the order it was applied: the feed shows
        # the conversion's states in the order they happened.
        amendments = 1 + actions.count(ChangeAction.AMENDED)
        assert [item["order_sum"] for item in items] == [
            AMOUNT_STEP * min(index + 1, amendments) for index in range(len(items))
        ]
        assert ChangeAction.APPROVED not in actions[:-1]
        expected_status = "approved" if actions[-1] == ChangeAction.APPROVED else "pending"
        assert items[-1]["status"] == expected_status

    assert len(seen) >= 50
    assert sum(len(items) > 1 for items in seen_by_conversion.values()) >= 5


def test_a_poller_sees_every_change_once_when_writers_are_slow_to_commit():
    followed, seen = _run(Pace(before_sequence=(0, 0), after_sequence=(0.0005, 0.004)))

    _assert_seen_exactly_once_in_order(followed, seen)


def test_a_poller_sees_every_change_once_among_long_interleaving_transactions():
    followed, seen = _run(Pace(before_sequence=(0.002, 0.04), after_sequence=(0, 0)))

    _assert_seen_exactly_once_in_order(followed, seen)
