"""PostgreSQL: the click table becomes partitioned by month on its UUIDv7 key.

Nothing changes for Django (the model and its state are the same) nor on SQLite, which
keeps one table. On PostgreSQL, inside the migration's transaction:

1. the foreign keys of other tables to clicks (conversions, claims) are dropped;
2. today's table, its indexes renamed, becomes the first partition,
   `clicks_click_before_<YYYY>_<MM>`: every key up to the first month after both today
   and the newest click (`FROM (MINVALUE) TO (<that month's first UUIDv7>)`); no row is
   copied, PostgreSQL only reads the table once to check the bound;
3. a new `clicks_click`, partitioned by range on `uuid`, gets the old table's columns,
   constraints and indexes under their old names; attaching the old table adopts its
   indexes and foreign keys as they are, without rebuilding them;
4. the foreign keys to clicks are made again, now to the partitioned table (PostgreSQL
   12+), which checks every conversion and claim once;
5. the next months get their partitions, up to three months ahead; from then on the
   `create_click_partitions` job keeps them ahead (`clicks.services.partitions`).

The whole of it holds the click table's lock: clicks wait (or answer 503 past the
database's timeouts) until it commits. Its cost is reading the table once and checking
the conversions' keys: see README "Partitioned clicks" for the measured time per million
clicks and how to run it. Reversing it copies every click back into one plain table.
"""

import re
from datetime import UTC, datetime

from django.db import migrations

TABLE = "clicks_click"
MONTHS_AHEAD = 3


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _next_month(month: datetime) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)


def _uuid7_floor(moment: datetime) -> str:
    # The smallest UUIDv7 of that millisecond (as retrack.lib.uuids.uuid7_floor, frozen here).
    value = (int(moment.timestamp() * 1000) << 80) | (0x7 << 76) | (0b10 << 62)
    return f"{value:032x}"


def _moment_of(uuid_text: str) -> datetime:
    """When a UUIDv7 was made (its first 48 bits, in milliseconds)."""
    return datetime.fromtimestamp(int(uuid_text.replace("-", "")[:12], 16) / 1000, tz=UTC)


def _references(cursor) -> list[tuple[str, str, str]]:
    """(table, constraint, definition) of every foreign key to the click table."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND confrelid = %s::regclass AND conparentid = 0 ORDER BY conname",
        [TABLE],
    )
    return cursor.fetchall()


def _constraints(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's own primary key, checks and foreign keys."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'c', 'f') AND conparentid = 0"
        " ORDER BY contype DESC, conname",
        [table],
    )
    return cursor.fetchall()


def _plain_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of the table's indexes that back no constraint."""
    cursor.execute(
        "SELECT index.relname, pg_get_indexdef(pg_index.indexrelid) FROM pg_index"
        " JOIN pg_class index ON index.oid = pg_index.indexrelid"
        " WHERE pg_index.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = pg_index.indexrelid)"
        " ORDER BY index.relname",
        [table],
    )
    return cursor.fetchall()


def _all_index_names(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT index.relname FROM pg_index JOIN pg_class index ON index.oid = pg_index.indexrelid"
        " WHERE pg_index.indrelid = %s::regclass ORDER BY index.relname",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def _on_table(statement: str, table: str, new_table: str) -> str:
    """A CREATE INDEX statement of `table`, made for `new_table` (which may be partitioned)."""
    return re.sub(rf" ON (ONLY )?(\S+\.)?{table} ", f" ON {new_table} ", statement, count=1)


def _recreate(cursor, table: str, constraints, indexes) -> None:
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _, statement in indexes:
        cursor.execute(_on_table(statement, TABLE, table))


def partition_clicks(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        references = _references(cursor)
        for table, name, _ in references:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        constraints = _constraints(cursor, TABLE)
        indexes = _plain_indexes(cursor, TABLE)
        cursor.execute(f"SELECT uuid::text FROM {TABLE} ORDER BY uuid DESC LIMIT 1")
        newest = cursor.fetchone()
        now = datetime.now(UTC)
        newest_moment = max(now, _moment_of(newest[0])) if newest else now
        first_month = _next_month(_month_start(newest_moment))

        first = f"{TABLE}_before_{first_month:%Y_%m}"
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {first}")
        for name in _all_index_names(cursor, first):
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{first}_{name}"')
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {first} INCLUDING DEFAULTS) PARTITION BY RANGE (uuid)"
        )
        _recreate(cursor, TABLE, constraints, indexes)
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {first}"
            f" FOR VALUES FROM (MINVALUE) TO ('{_uuid7_floor(first_month)}')"
        )
        month = first_month
        last = _month_start(now)
        for _ in range(MONTHS_AHEAD):
            last = _next_month(last)
        while month <= last:
            after = _next_month(month)
            cursor.execute(
                f"CREATE TABLE {TABLE}_{month:%Y_%m} PARTITION OF {TABLE}"
                f" FOR VALUES FROM ('{_uuid7_floor(month)}') TO ('{_uuid7_floor(after)}')"
            )
            month = after
        for table, name, definition in references:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def unpartition_clicks(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [TABLE])
        if cursor.fetchone()[0] != "p":
            return
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        references = _references(cursor)
        for table, name, _ in references:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        constraints = _constraints(cursor, TABLE)
        indexes = _plain_indexes(cursor, TABLE)
        partitioned = f"{TABLE}_partitioned"
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {partitioned}")
        for name in _all_index_names(cursor, partitioned):
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{name}_partitioned"')
        cursor.execute(f"CREATE TABLE {TABLE} (LIKE {partitioned} INCLUDING DEFAULTS)")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {partitioned}")
        _recreate(cursor, TABLE, constraints, indexes)
        cursor.execute(f"DROP TABLE {partitioned}")
        for table, name, definition in references:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


class Migration(migrations.Migration):
    dependencies = [
        ("clicks", "0009_click_day_without_test_clicks"),
    ]

    operations = [
        migrations.RunPython(partition_clicks, unpartition_clicks, elidable=False),
    ]
