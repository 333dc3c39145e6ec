"""The feed under concurrent writers: every change seen exactly once, in order.

Writer threads each make a fixed number of writes (creations, amendments, approvals)
while a poller thread follows the feed through the API with `next_cursor`; then the poller
drains it. Two ways of being slow are tried, each aimed at a different way a feed can skip:

- slow to commit after taking the sequence: a writer sleeps between `record_change` and
  its commit. A sequence number that others could take meanwhile (a database sequence)
  would let change N+1 commit and be read before N, and N would be skipped; with the
  counter's row lock the next writer waits for that commit instead.
- long interleaving transactions: a writer sleeps before `record_change`, so many
  transactions overlap and commit in another order than they began. A number taken when
  the write begins (an auto-increment id, a timestamp) would skip here.

A third run goes through the real conversion services (`record_conversion`,
`amend_transaction`, `approve_conversion`, `reject_conversion`), with writers racing to
settle each other's conversions.
"""

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

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
from conversions.services import (
    ConversionRefused,
    amend_transaction,
    approve_conversion,
    record_change,
    record_conversion,
    reject_conversion,
)
from stores.models import Event, EventKind
from tests.factories import (
    ClickFactory,
    EventFactory,
    PartnerFactory,
    ProgramFactory,
    StoreFactory,
)
from tests.partners.helpers import client_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 4
# Each writer makes this many writes: a third creations (one in five for the other
# partner), the rest amendments and settlements.
WRITES = 60
AMOUNT_STEP = 100


@dataclass(frozen=True)
class Pace:
    """Seconds a writer sleeps inside its transaction, before and after `record_change`."""

    before_sequence: tuple[float, float]
    after_sequence: tuple[float, float]


@dataclass
class Shared:
    clicks: dict
    event: Event
    pace: Pace
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[int] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    writers_done: threading.Event = field(default_factory=threading.Event)


def _partner_key(number: int) -> str:
    return "other" if number % 15 == 0 else "followed"


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
            event_id=shared.event.pk,
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


def _write_directly(shared: Shared) -> None:
    """Create and amend conversions with model writes and `record_change`, at `shared.pace`."""
    for number in range(WRITES):
        with shared.lock:
            target = random.choice(shared.pending) if shared.pending else None
        if target is None or number % 3 == 0:
            partner_key = _partner_key(number)
            created = _create(shared, partner_key, number)
            with shared.lock:
                shared.pending.append(created)
        elif not _amend_or_settle(shared, target):
            with shared.lock:
                if target in shared.pending:
                    shared.pending.remove(target)


def _write_through_services(shared: Shared) -> None:
    """Report, amend and settle through the conversion services, as the store API does.

    A writer amends only the orders it created (so it knows their sums) but approves or
    rejects anyone's, so settling races with amending; the loser is refused with 409.
    """
    store_name = shared.event.program.store.name
    actor = f"store:{store_name}"
    own_sums: dict = {}
    for number in range(WRITES):
        if not own_sums or number % 3 == 0:
            partner_key = _partner_key(number)
            payload = {
                "event": str(shared.event.uuid),
                "click": str(shared.clicks[partner_key].uuid),
                "orderNumber": f"{partner_key}-{threading.get_ident()}-{number}",
                "orderSum": AMOUNT_STEP,
                "vatSum": 0,
                "currency": "SEK",
            }
            conversion = record_conversion(
                EventKind.TRANSACTION,
                payload,
                source=ConversionSource.API,
                store=shared.event.program.store,
            ).conversion
            own_sums[conversion.pk] = AMOUNT_STEP
            with shared.lock:
                shared.pending.append(conversion.pk)
            continue
        try:
            if random.random() < 0.85:
                conversion_pk = random.choice(list(own_sums))
                conversion = Conversion.objects.get(pk=conversion_pk)
                new_sum = own_sums[conversion_pk] + AMOUNT_STEP
                amend_transaction(conversion, {"orderSum": new_sum}, actor=actor)
                own_sums[conversion_pk] = new_sum
            else:
                with shared.lock:
                    conversion_pk = random.choice(shared.pending)
                conversion = Conversion.objects.get(pk=conversion_pk)
                if random.random() < 0.5:
                    approve_conversion(conversion, actor=actor)
                else:
                    reject_conversion(conversion, actor=actor, reason="Order cancelled")
        except ConversionRefused as refusal:
            assert refusal.code == "conversion_not_pending", refusal
            own_sums.pop(conversion_pk, None)
            with shared.lock:
                if conversion_pk in shared.pending:
                    shared.pending.remove(conversion_pk)


def _writer(shared: Shared, write) -> None:
    try:
        write(shared)
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


def _run(write, pace: Pace = Pace(before_sequence=(0, 0), after_sequence=(0, 0))):
    followed = PartnerFactory(name="Refunder SE")
    other = PartnerFactory(name="Refunder NO")
    program = ProgramFactory(store=StoreFactory(name="Awesome Store"), currency="SEK")
    event = EventFactory(program=program, percent=Decimal("8"))
    shared = Shared(
        clicks={
            "followed": ClickFactory(partner=followed, program=program),
            "other": ClickFactory(partner=other, program=program),
        },
        event=event,
        pace=pace,
    )
    seen: list[dict] = []
    client = client_for(followed)
    writers = [threading.Thread(target=_writer, args=(shared, write)) for _ in range(WRITERS)]
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
        settled = {ChangeAction.APPROVED: "approved", ChangeAction.REJECTED: "rejected"}
        assert not settled.keys() & set(actions[:-1])
        assert items[-1]["status"] == settled.get(actions[-1], "pending")

    followed_creations = WRITERS * sum(
        _partner_key(number) == "followed" for number in range(0, WRITES, 3)
    )
    assert len(seen_by_conversion) >= followed_creations
    assert any(len(items) > 1 for items in seen_by_conversion.values())


def test_a_poller_sees_every_change_once_when_writers_are_slow_to_commit():
    pace = Pace(before_sequence=(0, 0), after_sequence=(0.0005, 0.004))
    followed, seen = _run(_write_directly, pace)

    _assert_seen_exactly_once_in_order(followed, seen)


def test_a_poller_sees_every_change_once_among_long_interleaving_transactions():
    pace = Pace(before_sequence=(0.002, 0.04), after_sequence=(0, 0))
    followed, seen = _run(_write_directly, pace)

    _assert_seen_exactly_once_in_order(followed, seen)


def test_a_poller_sees_every_change_once_while_the_services_write_concurrently():
    followed, seen = _run(_write_through_services)

    _assert_seen_exactly_once_in_order(followed, seen)
