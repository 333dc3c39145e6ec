"""The click table's monthly partitions on PostgreSQL: made ahead, dropped past retention.

Migration 0010 made `clicks_click` a table partitioned by range on its UUIDv7 primary key,
one partition a month (`clicks_click_2027_01`), after a first one that holds every click
made before the migration's next month (`clicks_click_before_2026_12`). SQLite keeps one
table, and every function here does nothing there.

Why the key and not `created_at`: a UUIDv7 starts with its millisecond, so a month is a
range of keys (from the first UUIDv7 of its first millisecond), and the primary key stays
`uuid` alone. With `created_at` as the partition key, PostgreSQL would need it in every
unique index, the primary key would become (uuid, created_at), and conversions and
claims could no longer refer to a click by its UUID alone. Every job that walks clicks by
age already reads them as key ranges (`retrack.lib.uuids.created_between`), so PostgreSQL
reads only the months a query's range touches.

Why no DEFAULT partition: a default partition would take the clicks of a month that has
no partition yet, but then that month's partition could not be made without moving those
rows out of it, under a lock that stops the click path. Instead `create_click_partitions`
(the daily `create_click_partitions` job, and migration 0010) keeps `MONTHS_AHEAD` months
made ahead, so a missed run or two change nothing. Were all of them missed, a click of a
month without partition would fail to be stored, and the tracking link would answer its
"try again" page (503), never a 500: the click path treats every database error so.

Locks: a new month is made as a table of its own and then attached, which locks the
click table only against other schema changes (SHARE UPDATE EXCLUSIVE), not against
clicks being stored or read. Dropping a month needs the click table to itself for a few
milliseconds; every step waits for its locks at most `LOCK_TIMEOUT` and then gives up
(the swap is tried again `SWAP_ATTEMPTS` times, then the job fails, is recorded and runs
again), so that it never queues clicks behind a long report for longer.
"""

import time
from datetime import UTC, datetime
from uuid import UUID

import psycopg
from django.db import IntegrityError, OperationalError, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from clicks.models import Click
from clicks.selectors import (
    KEPT_SUFFIX,
    ClickPartition,
    click_connection,
    click_partitions,
    clicks_are_partitioned,
)
from retrack.lib.uuids import uuid7_floor

# Months made ahead of the current one: the job runs daily, so three months leave ample
# time to notice a beat that stopped (Periodic jobs → Job runs).
MONTHS_AHEAD = 3
LOCK_TIMEOUT = "2s"
# A swap that timed out waiting for its locks (a long query on clicks or conversions) is
# tried again this many times, this long apart, before the job gives up until its next run.
SWAP_ATTEMPTS = 3
SWAP_RETRY_SECONDS = 10
# pg_advisory_xact_lock key: one partition change at a time (the job, the prune job and
# an operator's command may run at once).
_PARTITIONS_LOCK = 17_0002
TABLE = Click._meta.db_table


def month_start(moment: datetime) -> datetime:
    """The first instant of `moment`'s UTC month."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(month: datetime, months: int) -> datetime:
    index = month.year * 12 + month.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def first_key_at(moment: datetime) -> UUID:
    """The smallest UUIDv7 made at `moment`: the bound of the partitions' key ranges."""
    return uuid7_floor(int(moment.timestamp() * 1000))


def create_click_partitions(
    now: datetime | None = None, months_ahead: int = MONTHS_AHEAD
) -> list[str]:
    """Make the partitions of the current month and the `months_ahead` after it that do not
    exist yet; the names of those made. Idempotent; nothing on SQLite."""
    if not clicks_are_partitioned():
        return []
    month = month_start(now or timezone.now())
    created = []
    connection = click_connection()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _lock_partitions(cursor)
        existing = click_partitions()
        for _ in range(months_ahead + 1):
            following = add_months(month, 1)
            since, until = first_key_at(month), first_key_at(following)
            if not any(partition.overlaps(since, until) for partition in existing):
                name = f"{TABLE}_{month:%Y_%m}"
                _new_table(cursor, name)
                cursor.execute(
                    f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
                    [since, until],
                )
                created.append(name)
            month = following
    return created


def is_missing_partition(error: IntegrityError) -> bool:
    """Whether a click's INSERT failed because no partition takes its key's month."""
    cause = error.__cause__
    # PostgreSQL reports it as a check violation that names no constraint.
    return isinstance(cause, psycopg.errors.CheckViolation) and cause.diag.constraint_name is None


def make_partition_for(click_uuid: UUID) -> bool:
    """Make the partition of the month of `click_uuid` (a UUIDv7), when clicks are partitioned
    and no transaction is open (a failed INSERT has spoilt it); whether it may now be stored.

    The click path's last resort if the job has not made its month: storing the click is
    worth waiting for the lock (at most LOCK_TIMEOUT) once a month.
    """
    # Any other UUID's first bits are no month (the click path makes only UUIDv7s).
    if click_uuid.version != 7 or click_connection().in_atomic_block:
        return False
    made_at = datetime.fromtimestamp((click_uuid.int >> 80) / 1000, tz=UTC)
    create_click_partitions(now=made_at, months_ahead=0)
    return clicks_are_partitioned()


def drop_click_partitions_before(moment: datetime) -> int:
    """Drop every partition whose keys are all older than `moment`, keeping the clicks that
    a conversion or a claim refers to; how many clicks went.

    The caller checks that `moment` is past every attribution window (prune_clicks_before).
    Each partition goes in two steps:

    1. without locking anything clicks need, its referenced clicks are copied into a new
       table, `<partition>_kept` (a conversion is money and a claim an audit trail: their
       click stays, as the row-by-row pruning keeps it);
    2. in one short transaction, with the conversions and claims locked against writes,
       the clicks referenced since step 1 are copied too; then, with the tables locked,
       their foreign keys to clicks are dropped, the partition is detached and the kept
       table attached in its place, the foreign keys are made again (NOT VALID: PostgreSQL
       would otherwise check every conversion while the locks are held) and the old
       partition is dropped. Dropping its files costs nothing like deleting its rows.

    The foreign keys are then validated without blocking writes (every conversion's click
    is read once). A run that stopped anywhere is finished by the next: a half-made kept
    table is made again, and a foreign key left NOT VALID is validated first.
    """
    if not clicks_are_partitioned():
        return 0
    validate_references()
    bound = first_key_at(moment)
    dropped = 0
    for partition in click_partitions():
        if partition.is_kept or partition.until is None or partition.until > bound:
            continue
        kept, clicks, kept_clicks = copy_kept_clicks(partition)
        dropped += clicks - kept_clicks - _swap_with_retries(partition, kept)
    validate_references()
    return dropped


def kept_clicks_until() -> UUID | None:
    """The key up to which every partition holds only kept clicks: pruning row by row starts
    there, instead of reading the converted clicks of every pruned month again."""
    until = None
    for partition in click_partitions():
        if not partition.is_kept:
            break
        until = partition.until
    return until


def copy_kept_clicks(partition: ClickPartition) -> tuple[str, int, int]:
    """Step 1 of dropping a partition: its referenced clicks copied into a new table, with
    nothing locked that clicks need; the table's name, the partition's and its clicks."""
    kept = f"{partition.name}{KEPT_SUFFIX}"
    connection = click_connection()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _lock_partitions(cursor)
        # A kept table left by a run that stopped before its swap is not attached (the
        # partition still holds its range), so it is only made again.
        cursor.execute(f"DROP TABLE IF EXISTS {kept}")
        _new_table(cursor, kept)
        # The partition's bound as a constraint: attaching the table then needs no scan.
        checks = ["uuid IS NOT NULL", "uuid < %s"]
        bounds = [partition.until]
        if partition.since is not None:
            checks.append("uuid >= %s")
            bounds.append(partition.since)
        cursor.execute(
            f"ALTER TABLE {kept} ADD CONSTRAINT {kept}_bound CHECK ({' AND '.join(checks)})",
            bounds,
        )
        for name, definition in _own_foreign_keys(cursor):
            cursor.execute(f'ALTER TABLE {kept} ADD CONSTRAINT "{name}" {definition}')
        kept_clicks = _copy_referenced(cursor, partition, kept, _references())
        cursor.execute(f"SELECT count(*) FROM {partition.name}")
        (clicks,) = cursor.fetchone()
    return kept, clicks, kept_clicks


def swap_in_kept_clicks(partition: ClickPartition, kept: str) -> int:
    """Step 2: the kept table takes the partition's place, and the partition is dropped;
    how many more clicks were referenced since step 1 (and kept)."""
    references = _references()
    referencing = sorted({table for table, _, _, _ in references})
    connection = click_connection()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        _lock_partitions(cursor)
        # Pending deferred checks (none in a job's own transaction) would forbid the ALTERs.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        more = 0
        if referencing:
            cursor.execute(f"LOCK TABLE {', '.join(referencing)} IN SHARE MODE")
            more = _copy_referenced(cursor, partition, kept, references, again=True)
        cursor.execute(f"LOCK TABLE {', '.join([TABLE, *referencing])} IN ACCESS EXCLUSIVE MODE")
        for table, name, _, _ in references:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {partition.name}")
        since = "MINVALUE" if partition.since is None else "%s"
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {kept} FOR VALUES FROM ({since}) TO (%s)",
            [bound for bound in (partition.since, partition.until) if bound is not None],
        )
        cursor.execute(f"ALTER TABLE {kept} DROP CONSTRAINT {kept}_bound")
        for table, name, _, definition in references:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID')
        cursor.execute(f"DROP TABLE {partition.name}")
    return more


def _swap_with_retries(partition: ClickPartition, kept: str) -> int:
    attempt = 1
    while True:
        try:
            return swap_in_kept_clicks(partition, kept)
        except OperationalError:
            if attempt == SWAP_ATTEMPTS:
                raise
        attempt += 1
        time.sleep(SWAP_RETRY_SECONDS)


def _copy_referenced(
    cursor: CursorWrapper,
    partition: ClickPartition,
    kept: str,
    references: list[tuple[str, str, str, str]],
    again: bool = False,
) -> int:
    """Copy the partition's clicks that a row of another table refers to into `kept`; how
    many. Each referring table is read through its index on the key, over the range only."""
    if not references:
        return 0
    selects, parameters = [], []
    for table, _, column, _ in references:
        condition = f"{column} < %s"
        parameters.append(partition.until)
        if partition.since is not None:
            condition += f" AND {column} >= %s"
            parameters.append(partition.since)
        selects.append(f"SELECT {column} FROM {table} WHERE {condition}")
    cursor.execute(
        f"INSERT INTO {kept} SELECT * FROM {partition.name}"
        f" WHERE uuid IN ({' UNION '.join(selects)})"
        # Again: only those not copied yet, rather than every one meeting its copy.
        + (
            f" AND NOT EXISTS (SELECT 1 FROM {kept} WHERE {kept}.uuid = {partition.name}.uuid)"
            if again
            else ""
        ),
        parameters,
    )
    return cursor.rowcount


def _new_table(cursor: CursorWrapper, name: str) -> None:
    """A table shaped like a partition of clicks: its columns, checks and indexes (which
    attaching it adopts as the partition's), without its foreign keys."""
    cursor.execute(
        f"CREATE TABLE {name} (LIKE {TABLE}"
        " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)"
    )


def _lock_partitions(cursor: CursorWrapper) -> None:
    cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITIONS_LOCK])


def _references() -> list[tuple[str, str, str, str]]:
    """(table, constraint, column, definition) of the foreign keys to clicks: conversions
    and claims, and any a later migration adds."""
    with click_connection().cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, attname, pg_get_constraintdef(con.oid)"
            " FROM pg_constraint con JOIN pg_attribute"
            " ON attrelid = conrelid AND attnum = conkey[1]"
            " WHERE contype = 'f' AND confrelid = to_regclass(%s) AND conparentid = 0"
            " ORDER BY conname",
            [TABLE],
        )
        return cursor.fetchall()


def _own_foreign_keys(cursor: CursorWrapper) -> list[tuple[str, str]]:
    """(name, definition) of the click table's foreign keys (to partners and programs)."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid = to_regclass(%s) AND conparentid = 0",
        [TABLE],
    )
    return cursor.fetchall()


def validate_references() -> None:
    """Validate the foreign keys to clicks left NOT VALID; each holds no lock that stops
    writes (SHARE UPDATE EXCLUSIVE) while it reads the referring table."""
    with click_connection().cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE contype = 'f' AND confrelid = to_regclass(%s) AND conparentid = 0"
            " AND NOT convalidated",
            [TABLE],
        )
        for table, name in cursor.fetchall():
            cursor.execute(f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"')
