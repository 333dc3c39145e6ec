"""Numbering committed changes: the partner feed's order, without a lock on the write path.

Writers insert a `ConversionChange` (or set a `Claim`'s `sequence`) with `sequence` NULL
and take no shared lock: any number of them commit in parallel. The sequencer,
`sequence_committed_changes`, then numbers every committed, unnumbered row in one short
transaction, with consecutive numbers continuing the `ChangeCounter` row. Why a poller
following the feed never skips:

- Runs are serial. A run holds the sequencer's lock (a PostgreSQL advisory lock; on
  SQLite the database's single writer) and the counter row until it commits, and the next
  run starts after that commit is visible. So every number of a later run is above every
  number of an earlier one, and a run's numbers become visible at once, at its commit.
- A feed read is one statement with one snapshot, which sees some prefix of the runs. If
  it saw number N, N came from one of those runs; a change it did not see is numbered by a
  later run, above N. A cursor at N can never miss it. The feed only lags, by at most
  the time until the next run.
- A run numbers only what is committed (it cannot see the rest), so a writer still in
  its transaction, however long, delays nothing but its own change, and a rolled-back
  writer leaves no row and no gap: numbers are taken only for rows that exist.
- Per conversion, changes are numbered in the order they were made: a writer inserts its
  change while holding the conversion's row lock, so of two changes of one conversion the
  second has the higher id and commits after the first; a run that sees the second sees
  the first, and numbers in id order.

An alternative numbers nothing and orders the feed by (transaction id, insert number),
reading up to the oldest transaction still running (`pg_snapshot_xmin`), as transactional
outbox readers do. It was rejected: a transaction's id is assigned at its first write, not
at its commit, so two changes of one conversion by two transactions could come out of
order (the later change in the older transaction), and `change` would no longer increase
along the feed, which partners key on; it is also PostgreSQL-only, and one long
transaction holds every reader back.

The sequencer runs inline before partner feed and claim reads (so a single-database
install is never stale), after a claim is written (its answer carries its number), from
the webhook dispatch path (a change whose partner has endpoints asks a worker to run it,
and its deliveries are written by the run that numbers it, so `data.change` is the
number), and from beat every `RETRACK_SEQUENCER_SECONDS` (1 s) for everything else.
"""

from django.db import connection, transaction
from django.db.models import Max

from conversions.claims.models import Claim, ClaimStatus
from conversions.claims.selectors import claim_document, claims_with_relations
from conversions.models import ChangeCounter, ConversionChange
from partners.models import WebhookEndpoint
from partners.webhooks.events import claim_decision_event, conversion_change_event
from partners.webhooks.services import record_webhook_events

# Rows numbered per run (per kind): one run is one short transaction even after a backlog.
SEQUENCE_BATCH = 2000
# pg_advisory_xact_lock's key for the sequencer (any constant unique in this database).
_SEQUENCER_LOCK_KEY = 7_004_217_017

_CHANGES = ConversionChange._meta.db_table
_CLAIMS = Claim._meta.db_table
_ANY_UNSEQUENCED_SQL = (
    f"SELECT EXISTS (SELECT 1 FROM {_CHANGES} WHERE sequence IS NULL) "
    f"OR EXISTS (SELECT 1 FROM {_CLAIMS} WHERE sequence IS NULL)"
)
# Sets the number and the snapshot's `change` in one statement per backend.
_NUMBER_CHANGES_POSTGRESQL = (
    f"UPDATE {_CHANGES} AS change SET sequence = numbered.sequence, "
    "snapshot = jsonb_set(change.snapshot, '{change}', to_jsonb(numbered.sequence)) "
    "FROM unnest(%s::bigint[], %s::bigint[]) AS numbered (id, sequence) "
    "WHERE change.id = numbered.id"
)
_NUMBER_CHANGE_SQLITE = (
    f"UPDATE {_CHANGES} SET sequence = %s, snapshot = json_set(snapshot, '$.change', %s) "
    "WHERE id = %s"
)


def sequence_committed_changes(
    *, wait: bool = False, batch_size: int = SEQUENCE_BATCH, max_runs: int = 1
) -> int:
    """Number the committed, unnumbered changes (conversions' and claims'); how many it did.

    Up to `max_runs` runs of at most `batch_size` rows each, every run its own short
    transaction. Without `wait` it never waits behind another sequencer: when one is at
    work it returns at once and the caller reads what is numbered (that run or the next
    numbers the rest). With `wait` it waits for that run to end and then runs, so that a
    change the caller committed before is numbered when it returns (a claim's answer).

    Call it outside a transaction: inside one it would hold the sequencer's lock until
    that transaction ends (still correct, since the lock then covers the commit).
    """
    if not wait and not _anything_to_number():
        return 0
    total = 0
    for _ in range(max_runs):
        numbered = _run(wait=wait, batch_size=batch_size)
        if numbered is None:
            break
        total += numbered[0] + numbered[1]
        if max(numbered) < batch_size:
            break
    return total


def _anything_to_number() -> bool:
    # One cheap read (the partial indexes hold only unnumbered rows) before taking a lock.
    with connection.cursor() as cursor:
        cursor.execute(_ANY_UNSEQUENCED_SQL)
        (anything,) = cursor.fetchone()
    return bool(anything)


def _run(*, wait: bool, batch_size: int) -> tuple[int, int] | None:
    """One run: (changes, claims) numbered, or None when another sequencer is at work."""
    with transaction.atomic():
        if not _take_sequencer_lock(wait):
            return None
        last = _locked_counter()
        # Locked, so that a conversion deleted meanwhile cannot take a number with it.
        changes = list(
            ConversionChange.objects.select_for_update()
            .filter(sequence__isnull=True)
            .order_by("id")
            .values_list("id", "partner_id", "test")[:batch_size]
        )
        # A claim being decided right now is left to the next run: its decision unsets the
        # number again, and that transaction may itself be waiting for this lock.
        claim_ids = list(
            Claim.objects.select_for_update(skip_locked=True)
            .filter(sequence__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not changes and not claim_ids:
            return 0, 0
        change_numbers = range(last + 1, last + 1 + len(changes))
        claim_numbers = range(change_numbers.stop, change_numbers.stop + len(claim_ids))
        _number_changes([change_id for change_id, _, _ in changes], change_numbers)
        Claim.objects.bulk_update(
            [
                Claim(pk=pk, sequence=number)
                for pk, number in zip(claim_ids, claim_numbers, strict=True)
            ],
            ["sequence"],
        )
        ChangeCounter.objects.filter(pk=1).update(last_sequence=claim_numbers.stop - 1)
        _record_deliveries(changes, claim_ids)
    return len(changes), len(claim_ids)


def _take_sequencer_lock(wait: bool) -> bool:
    if connection.vendor != "postgresql":
        # SQLite: the transaction began IMMEDIATE, so it is the database's only writer.
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEQUENCER_LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEQUENCER_LOCK_KEY])
        (taken,) = cursor.fetchone()
    return bool(taken)


def _locked_counter() -> int:
    """The last number handed out, its row locked until this run commits.

    Blocking on the row is harmless: only sequencers take it, one at a time. A counter row
    lost (`manage.py flush`) is remade at the highest number in use.
    """
    last = (
        ChangeCounter.objects.select_for_update()
        .filter(pk=1)
        .values_list("last_sequence", flat=True)
        .first()
    )
    if last is not None:
        return last
    highest = max(
        ConversionChange.objects.aggregate(highest=Max("sequence"))["highest"] or 0,
        Claim.objects.aggregate(highest=Max("sequence"))["highest"] or 0,
    )
    ChangeCounter.objects.create(pk=1, last_sequence=highest)
    return highest


def _number_changes(change_ids: list[int], numbers: range) -> None:
    if not change_ids:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_NUMBER_CHANGES_POSTGRESQL, [change_ids, list(numbers)])
        else:
            cursor.executemany(
                _NUMBER_CHANGE_SQLITE,
                [(number, number, pk) for pk, number in zip(change_ids, numbers, strict=True)],
            )


def _record_deliveries(changes: list[tuple[int, int, bool]], claim_ids: list[int]) -> None:
    """Write the webhook deliveries of what this run numbered, in its transaction.

    A change's deliveries exist exactly when its number does, and carry it: the event id
    and `data.change` are the number. Claims are pushed when decided (`claim.accepted`,
    `claim.declined`); filing one is not an event.
    """
    partner_ids = {partner_id for _, partner_id, test in changes if not test}
    partner_ids |= set(
        Claim.objects.filter(pk__in=claim_ids)
        .exclude(status=ClaimStatus.OPEN)
        .values_list("partner_id", flat=True)
    )
    if not partner_ids:
        return
    with_endpoints = set(
        WebhookEndpoint.objects.filter(partner_id__in=partner_ids, active=True).values_list(
            "partner_id", flat=True
        )
    )
    if not with_endpoints:
        return
    events = []
    pushed = [pk for pk, partner_id, test in changes if not test and partner_id in with_endpoints]
    for change in ConversionChange.objects.filter(pk__in=pushed).order_by("sequence"):
        event = conversion_change_event(change)
        if event is not None:
            events.append((change.partner_id, event))
    decided = (
        claims_with_relations()
        .filter(pk__in=claim_ids, partner_id__in=with_endpoints)
        .exclude(status=ClaimStatus.OPEN)
        .order_by("sequence")
    )
    for claim in decided:
        event = claim_decision_event(claim_document(claim), claim.updated_at)
        events.append((claim.partner_id, event))
    record_webhook_events(events)
