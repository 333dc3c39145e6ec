"""What partitioning the click table costs and saves (PostgreSQL), in one run:

1. the migration (clicks 0010) of a table of `BENCH_CLICKS` clicks (1 000 000, over the
   last 12 months, one in `BENCH_CONVERTED_EVERY` (50) converted), forward and back;
2. retention of one month of `BENCH_CLICKS` clicks: dropping its partition (copying the
   converted clicks out, then the swap, whose locks stop clicks) against deleting the
   same rows a batch at a time as before partitions (`delete_unreferenced_clicks`, 1000
   a batch), with the WAL each wrote;
3. the click's INSERT, the fast path's statement through psycopg as the fast path sends
   it, into the partitioned table (17 monthly partitions), into a plain copy of it
   holding the same rows, and straight into this month's partition, alternating in
   blocks: the wall time and the PostgreSQL backend's CPU time (/proc) per insert.

    BENCH_DATABASE=retrack_bench_partitions flock /tmp/retrack-bench.lock \\
        .venv/bin/python bench/click_partitions.py

Settings (environment): BENCH_PG, BENCH_DATABASE (retrack_bench_partitions), BENCH_CLICKS,
BENCH_CONVERTED_EVERY, BENCH_INSERTS (2000 per block), BENCH_ROUNDS (5). Prints a
markdown section for bench/RESULTS.md.
"""

import importlib.util
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLICKS = int(os.environ.get("BENCH_CLICKS", "1000000"))
CONVERTED_EVERY = int(os.environ.get("BENCH_CONVERTED_EVERY", "50"))
INSERTS = int(os.environ.get("BENCH_INSERTS", "2000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
os.environ.setdefault("BENCH_DATABASE", "retrack_bench_partitions")
JANUARY_2031 = datetime(2031, 1, 1, tzinfo=UTC)
FEBRUARY_2031 = datetime(2031, 2, 1, tzinfo=UTC)
TICKS = os.sysconf("SC_CLK_TCK")


def _load_bench_clicks():
    # By path: on sys.path, bench/clicks.py would shadow the `clicks` app.
    spec = importlib.util.spec_from_file_location("bench_clicks", ROOT / "bench" / "clicks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_clicks = _load_bench_clicks()


def say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def load_clicks(cursor, ids: dict, since: datetime, until: datetime, count: int) -> None:
    """`count` clicks with UUIDv7 keys spread evenly over [since, until), in one statement."""
    first = int(since.timestamp() * 1000)
    span = int(until.timestamp() * 1000) - first
    cursor.execute(
        "INSERT INTO clicks_click (uuid, ref, ref2, ref3, deeplink, ip_address, browser,"
        " referer, country, created_at, is_bot, partner_id, program_id, is_anonymized, test)"
        " SELECT (lpad(to_hex(ms), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))"
        "::uuid, n::text, '', '', 'https://www.bench-store.example/skor', '192.0.2.0',"
        " 'Chrome', 'https://www.bench-partner.example/', 'SE', to_timestamp(ms / 1000.0),"
        " false, %(partner)s, %(program)s, true, false"
        " FROM (SELECT n, %(first)s + n * %(span)s / %(count)s AS ms, md5(n::text) AS h"
        " FROM generate_series(0, %(count)s - 1) n) AS generated"
        " ON CONFLICT (uuid) DO NOTHING",
        {
            "first": first,
            "span": span,
            "count": count,
            "partner": ids["partner_id"],
            "program": ids["program_id"],
        },
    )


def convert_some(cursor, template_id: int, since: datetime, until: datetime) -> int:
    """One conversion (a copy of the template's row) on every CONVERTED_EVERY-th click of
    the range; how many."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name ="
        " 'conversions_conversion' AND column_name NOT IN"
        " ('id', 'uuid', 'click_id', 'order_number') ORDER BY ordinal_position"
    )
    columns = [name for (name,) in cursor.fetchall()]
    listed = ", ".join(columns)
    from_template = ", ".join(f"template.{name}" for name in columns)
    cursor.execute(
        f"INSERT INTO conversions_conversion ({listed}, uuid, click_id, order_number)"
        f" SELECT {from_template}, gen_random_uuid(), click.uuid, 'bench-' || click.uuid"
        " FROM conversions_conversion template,"
        " (SELECT uuid, row_number() OVER (ORDER BY uuid) AS n FROM clicks_click"
        "  WHERE uuid >= %s AND uuid < %s) AS click"
        " WHERE template.id = %s AND click.n %% %s = 0",
        [_key(since), _key(until), template_id, CONVERTED_EVERY],
    )
    return cursor.rowcount


def _key(moment: datetime):
    from clicks.services.partitions import first_key_at

    return first_key_at(moment)


def wal_position(cursor) -> int:
    cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
    return int(cursor.fetchone()[0])


def timed(work):
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


class ClickWriter:
    """Stores a click every 2 ms from its own connection while the retention runs, as the
    click path would: how long the slowest waited says how long clicks were stopped."""

    def __init__(self, ids: dict) -> None:
        self.ids = ids
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def __enter__(self) -> "ClickWriter":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def run(self) -> None:
        import psycopg

        from retrack.lib.uuids import uuid7

        with psycopg.connect(bench_clicks.DATABASE_URL, autocommit=True) as connection:
            while not self.stop.is_set():
                started = time.perf_counter()
                connection.execute(
                    "INSERT INTO clicks_click (uuid, ref, ref2, ref3, deeplink, browser, referer,"
                    " country, created_at, is_bot, partner_id, program_id, is_anonymized, test)"
                    " VALUES (%s, 'w', '', '', '', '', '', '', now(), false, %s, %s, false, false)",
                    [uuid7(), self.ids["partner_id"], self.ids["program_id"]],
                )
                self.latencies.append(time.perf_counter() - started)
                time.sleep(0.002)

    def summary(self) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[int(len(ordered) * 0.99)]
        return (
            f"{len(ordered)} stored, p99 {p99 * 1000:.0f} ms, slowest {ordered[-1] * 1000:.0f} ms"
        )


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def main() -> None:
    environment = bench_clicks.django_environment()
    say(f"Preparing {bench_clicks.DATABASE}...")
    ids = bench_clicks.prepare_database()
    os.environ.update(environment)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from clicks.models import Click
    from clicks.selectors import click_partitions
    from clicks.services import delete_unreferenced_clicks
    from clicks.services.partitions import (
        copy_kept_clicks,
        create_click_partitions,
        swap_in_kept_clicks,
        validate_references,
    )
    from tests.factories import ConversionFactory

    lines = []
    now = datetime.now(UTC)
    click = Click.objects.create(partner_id=ids["partner_id"], program_id=ids["program_id"])
    template = ConversionFactory(click=click)

    # 1. The migration of today's table.
    call_command("migrate", "clicks", "0009_click_day_without_test_clicks", verbosity=0)
    with connection.cursor() as cursor:
        say(f"Loading {CLICKS} clicks over the last 12 months into one table...")
        load_clicks(cursor, ids, now - timedelta(days=365), now, CLICKS)
        converted = convert_some(cursor, template.pk, now - timedelta(days=365), now)
        cursor.execute("VACUUM ANALYZE clicks_click")
    say("Migrating forward, back and forward...")
    forward, _ = timed(lambda: call_command("migrate", "clicks", verbosity=0))
    back, _ = timed(
        lambda: call_command("migrate", "clicks", "0009_click_day_without_test_clicks", verbosity=0)
    )
    forward_again, _ = timed(lambda: call_command("migrate", "clicks", verbosity=0))
    lines += [
        f"Migration 0010 on a table of {CLICKS:,} clicks ({converted:,} converted):",
        "",
        "| step | seconds |",
        "|---|---:|",
        f"| forward (today's table becomes the first partition) | {forward:.1f} |",
        f"| back (every click copied into one table) | {back:.1f} |",
        f"| forward again | {forward_again:.1f} |",
        "",
    ]

    # 2. Retention of one month: the partition dropped, against the rows deleted.
    create_click_partitions(now=JANUARY_2031, months_ahead=1)
    with connection.cursor() as cursor:
        say(f"Loading {CLICKS} clicks into January 2031...")
        load_clicks(cursor, ids, JANUARY_2031, FEBRUARY_2031, CLICKS)
        converted = convert_some(cursor, template.pk, JANUARY_2031, FEBRUARY_2031)
        cursor.execute("VACUUM ANALYZE clicks_click")
        january = next(p for p in click_partitions() if p.name == "clicks_click_2031_01")
        say("Dropping the month...")
        wal = wal_position(cursor)
        with ClickWriter(ids) as drop_writer:
            copy_seconds, (kept, clicks, kept_clicks) = timed(lambda: copy_kept_clicks(january))
            swap_seconds, _ = timed(lambda: swap_in_kept_clicks(january, kept))
            validate_seconds, _ = timed(validate_references)
        drop_wal = wal_position(cursor) - wal
        say("Loading the same clicks again, and deleting them a batch at a time...")
        load_clicks(cursor, ids, JANUARY_2031, FEBRUARY_2031, CLICKS)
    with connection.cursor() as cursor:
        wal = wal_position(cursor)
        with ClickWriter(ids) as delete_writer:
            delete_seconds, deleted = timed(
                lambda: delete_unreferenced_clicks(FEBRUARY_2031, _key(JANUARY_2031), 1000)
            )
        delete_wal = wal_position(cursor) - wal
    drop_seconds = copy_seconds + swap_seconds + validate_seconds
    lines += [
        f"Retention of one month of {clicks:,} clicks, {kept_clicks:,} of them converted (kept):",
        "",
        "| way | seconds | WAL written | a click stored every 2 ms meanwhile |",
        "|---|---:|---:|---|",
        f"| drop the partition: copy the converted out | {copy_seconds:.2f} | | |",
        f"| drop the partition: swap and drop | {swap_seconds:.3f} | | |",
        f"| drop the partition: validate the foreign keys | {validate_seconds:.2f} | | |",
        f"| **drop the partition, all told** | **{drop_seconds:.1f}** |"
        f" {drop_wal / 2**20:.0f} MB | {drop_writer.summary()} |",
        f"| delete {deleted:,} rows, 1000 a batch (before partitions) | **{delete_seconds:.1f}** |"
        f" {delete_wal / 2**20:.0f} MB | {delete_writer.summary()} |",
        "",
    ]

    # 3. The click's INSERT: partitioned against one plain table with the same rows.
    create_click_partitions(now=now, months_ahead=16)
    partitions = len(click_partitions())
    with connection.cursor() as cursor:
        say("Copying the clicks into a plain table...")
        cursor.execute("DROP TABLE IF EXISTS clicks_click_plain")
        cursor.execute("CREATE TABLE clicks_click_plain (LIKE clicks_click INCLUDING ALL)")
        # Its foreign keys too, which every click's INSERT checks.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = 'clicks_click'::regclass AND conparentid = 0"
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE clicks_click_plain ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("INSERT INTO clicks_click_plain SELECT * FROM clicks_click")
        cursor.execute("VACUUM ANALYZE clicks_click_plain")
        cursor.execute("VACUUM ANALYZE clicks_click")
        cursor.execute("SELECT count(*) FROM clicks_click")
        (rows,) = cursor.fetchone()
    lines += insert_costs(ids, partitions, rows)
    print("\n".join(lines))


def insert_costs(ids: dict, partitions: int, rows: int) -> list[str]:
    import psycopg

    from clicks.fast_path import _insert_statement
    from retrack.lib.uuids import uuid7

    sql, _, _ = _insert_statement("default")
    from clicks.selectors import click_partitions
    from clicks.services.partitions import first_key_at

    now_key = first_key_at(datetime.now(UTC))
    current = next(
        p.name
        for p in click_partitions()
        if (p.since is None or p.since <= now_key) and (p.until is None or now_key < p.until)
    )
    statements = {
        "partitioned": sql,
        "plain": sql.replace('INSERT INTO "clicks_click"', 'INSERT INTO "clicks_click_plain"'),
        f"this month's partition by name ({current})": sql.replace(
            'INSERT INTO "clicks_click"', f'INSERT INTO "{current}"'
        ),
    }
    columns = sql.split("(", 1)[1].split(")", 1)[0].replace('"', "").split(", ")
    values = {
        "ref": "38315327",
        "ref2": "",
        "ref3": "",
        "deeplink": "https://www.bench-store.example/skor/sneakers?color=red&size=42",
        "ip_address": "192.0.2.7",
        "browser": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
        "referer": "",
        "country": "SE",
        "is_bot": False,
        "partner_id": ids["partner_id"],
        "program_id": ids["program_id"],
        "is_anonymized": False,
        "test": False,
    }
    wall = {name: [] for name in statements}
    cpu = {name: [] for name in statements}
    say(f"Inserting {ROUNDS} x {INSERTS} clicks into each table, alternating...")
    with psycopg.connect(bench_clicks.DATABASE_URL, autocommit=True) as connection:
        pid = connection.info.backend_pid
        for round_number in range(ROUNDS):
            # Each round starts with the next table, so that none is always first.
            names = list(statements)
            order = names[round_number % len(names) :] + names[: round_number % len(names)]
            for name in order:
                cpu_before = backend_cpu_seconds(pid)
                started = time.perf_counter()
                for _ in range(INSERTS):
                    row = {**values, "uuid": uuid7(), "created_at": datetime.now(UTC)}
                    connection.execute(statements[name], [row[column] for column in columns])
                wall[name].append((time.perf_counter() - started) / INSERTS)
                cpu[name].append((backend_cpu_seconds(pid) - cpu_before) / INSERTS)
    lines = [
        f"The click's INSERT ({ROUNDS} rounds of {INSERTS}, alternating; {rows:,} rows in"
        f" each table; the partitioned one has {partitions} partitions):",
        "",
        "| table | wall per insert (median of rounds) | PostgreSQL CPU per insert (median) |",
        "|---|---:|---:|",
    ]
    for name in statements:
        lines.append(
            f"| {name} | {statistics.median(wall[name]) * 1e6:.0f} µs"
            f" | {statistics.median(cpu[name]) * 1e6:.0f} µs |"
        )
    lines.append("")
    lines.append(
        "Every round, µs of PostgreSQL CPU per insert: "
        + "; ".join(
            f"{name} " + ", ".join(f"{value * 1e6:.0f}" for value in cpu[name])
            for name in statements
        )
    )
    return lines


if __name__ == "__main__":
    main()
