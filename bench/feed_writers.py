"""Benchmark of the feed's write path: concurrent writers that hold their transactions open.

`make bench-feed` runs it after the read benchmark (bench/feed.py). On its own PostgreSQL
database (BENCH_DATABASE, default retrack_bench_feed_writers, dropped and made afresh) it
starts BENCH_WRITERS (16) writer processes, each with its own connection, each writing in
a transaction that it then holds open BENCH_HOLD_MS (20 ms) before committing: a sleep
standing for a network round trip to a database on another host. Two kinds of writers:

- service: a transaction with three product lines on a new click, through the service
  layer (`record_conversion`: attribution, pricing, flags, lines, history), whose Python
  CPU cost bounds the rate on a small machine whatever the locking;
- lean: the conversion row and its `record_change` with a ready document (what the
  create path ends in), so that the rate shows the locking more than the CPU;
- sql: the same rows written with SQL statements (a template conversion copied, its
  change inserted unnumbered, the webhook endpoints looked up), no ORM: the database's
  work and the locking only.

Two designs run side by side, alternating, BENCH_SECONDS (10) each, for each kind:

- old: the change takes its number from the single ChangeCounter row as the last write
  and holds the row's lock until commit. Reproduced here by running the statement the old
  `next_change_sequence` ran, at the same point (after `record_change`, the last write):
  every writer waits for the previous one's commit, 20 ms included.
- new: the change is written unnumbered (today's code), and a sequencer process numbers
  committed changes once a second, as beat does.

It reports writes/s and the writers' CPU per write for both, the ratio, then checks the
new design's result: every change numbered, each snapshot's `change` equal to its number.

    BENCH_WRITERS=16 BENCH_SECONDS=10 .venv/bin/python bench/feed_writers.py
"""

import json
import multiprocessing
import os
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = os.environ.get("BENCH_DATABASE", "retrack_bench_feed_writers")
WRITERS = int(os.environ.get("BENCH_WRITERS", "16"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
HOLD = int(os.environ.get("BENCH_HOLD_MS", "20")) / 1000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
KINDS = os.environ.get("BENCH_KINDS", "service lean sql").split()
SEQUENCER_INTERVAL = 1.0
# Clicks each writer may use in one phase: far more than a phase can write.
CLICKS_PER_WRITER = 1000

os.environ.update(
    DATABASE_URL=f"{SERVER}/{DATABASE}",
    DJANGO_SETTINGS_MODULE="retrack.settings",
    DEBUG="false",
    SECRET_KEY="bench-feed-writers-secret-key-not-for-production-0123456789",
    ALLOWED_HOSTS="127.0.0.1",
    LOG_LEVEL="WARNING",
)
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from clicks.models import Click  # noqa: E402
from conversions.models import (  # noqa: E402
    ChangeAction,
    ChangeCounter,
    Conversion,
    ConversionChange,
    ConversionSource,
)
from conversions.selectors import conversion_document  # noqa: E402
from conversions.services import (  # noqa: E402
    record_change,
    record_conversion,
    sequence_committed_changes,
)
from partners.models import Partner  # noqa: E402
from partners.services import admit_partner  # noqa: E402
from stores.models import Event, EventKind, Store  # noqa: E402
from stores.services import save_event, save_program  # noqa: E402

# What the old design ran as the last write of every changing transaction (main before
# this change, conversions/services/history.py `_NEXT_SEQUENCE_SQL`).
OLD_NEXT_SEQUENCE_SQL = (
    f"INSERT INTO {ChangeCounter._meta.db_table} AS counter (id, last_sequence) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET last_sequence = counter.last_sequence + 1 "
    "RETURNING last_sequence"
)


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    connection.close()
    call_command("migrate", verbosity=0)


def seed(phases: int) -> dict:
    store = Store.objects.create(name="Bench Store")
    program = save_program(
        store,
        name="Bench Store SE",
        currency="SEK",
        landing_url="https://www.bench-store.example/",
        allowed_domains=["bench-store.example"],
        attribution_days=30,
        validation_days=45,
        max_conversions_per_click_per_day=32767,
    )
    shoes, socks = (
        save_event(program, name=name, kind="transaction", percent=Decimal(rate), fixed_amount=None)
        for name, rate in (("Shoes", "8"), ("Socks", "12.5"))
    )
    partner = Partner.objects.create(name="Refunder SE")
    admit_partner(partner, program)
    clicks = Click.objects.bulk_create(
        [
            Click(partner=partner, program=program, ref=str(n))
            for n in range(phases * WRITERS * CLICKS_PER_WRITER)
        ],
        batch_size=5000,
    )
    return {
        "store": store.pk,
        "program": program.pk,
        "partner": partner.pk,
        "shoes": str(shoes.uuid),
        "socks": str(socks.uuid),
        "clicks": [str(click.uuid) for click in clicks],
    }


LINES = [
    ("SKU-1", "Shoe", 1, 1000, 200),
    ("SKU-2", "Socks", 3, 250, 50),
    ("SKU-3", "Laces", 1, 375, 75),
]


def payload(seed_data: dict, click: str, order_number: str) -> dict:
    events = [seed_data["shoes"], seed_data["socks"], seed_data["socks"]]
    return {
        "event": seed_data["shoes"],
        "click": click,
        "orderNumber": order_number,
        "orderSum": sum(quantity * price for _, _, quantity, price, _ in LINES),
        "vatSum": sum(quantity * vat for _, _, quantity, _, vat in LINES),
        "currency": "SEK",
        "products": [
            {"event": event, "reference": reference, "name": name, "quantity": quantity,
             "price": price, "vat": vat}
            for event, (reference, name, quantity, price, vat) in zip(events, LINES, strict=True)
        ],
    }  # fmt: skip


def write_through_service(seed_data: dict, click: str, order_number: str, store) -> None:
    report = payload(seed_data, click, order_number)
    record_conversion(EventKind.TRANSACTION, report, source=ConversionSource.API, store=store)


def write_lean(seed_data: dict, click: str, order_number: str, event: Event) -> None:
    conversion = Conversion.objects.create(
        kind=EventKind.TRANSACTION,
        program_id=seed_data["program"],
        partner_id=seed_data["partner"],
        click_id=click,
        event=event,
        order_number=order_number,
        order_sum=2125,
        vat_sum=425,
        currency="SEK",
        source=ConversionSource.API,
        confirmed=True,
    )
    record_change(
        conversion,
        action=ChangeAction.CREATED,
        actor="store:Bench Store",
        document={**seed_data["document"], "order_number": order_number},
    )


def copy_statements() -> tuple[str, str]:
    """SQL that copies a template conversion and writes its change as `record_change` does.

    The same rows and indexes as the lean writer, without the ORM's CPU: what is left is
    the database work and the locking.
    """
    conversions, changes = Conversion._meta.db_table, ConversionChange._meta.db_table
    columns = [field.column for field in Conversion._meta.concrete_fields if field.column != "id"]
    copied = ", ".join(
        {"uuid": "gen_random_uuid()", "order_number": "%s"}.get(column, column)
        for column in columns
    )
    insert_conversion = (
        f"INSERT INTO {conversions} ({', '.join(columns)}) "
        f"SELECT {copied} FROM {conversions} WHERE id = %s RETURNING id"
    )
    insert_change = (
        f"INSERT INTO {changes} (conversion_id, partner_id, sequence, action, actor, reason, "
        "changes, test, snapshot, created_at) "
        "VALUES (%s, %s, NULL, 'created', 'store:Bench Store', '', '{}', false, %s, now())"
    )
    return insert_conversion, insert_change


def write_sql(seed_data: dict, order_number: str, statements: tuple[str, str]) -> None:
    insert_conversion, insert_change = statements
    snapshot = json.dumps({**seed_data["document"], "order_number": order_number})
    with connection.cursor() as cursor:
        cursor.execute(insert_conversion, [order_number, seed_data["template"]])
        (conversion_id,) = cursor.fetchone()
        cursor.execute(insert_change, [conversion_id, seed_data["partner"], snapshot])
        # What `record_change` asks before it asks for a sequencer run (webhooks).
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM partners_webhookendpoint "
            "WHERE partner_id = %s AND active)",
            [seed_data["partner"]],
        )


def writer(phase, index, clicks, seed_data, start_at, results) -> None:
    """Write until the phase ends; puts (writes committed, when the last did, CPU seconds)."""
    kind, design = phase
    store = Store.objects.get(pk=seed_data["store"])
    event = Event.objects.get(uuid=seed_data["shoes"])
    statements = copy_statements()
    written, last_commit = 0, start_at
    while time.time() < start_at:
        time.sleep(0.001)
    cpu_before = time.process_time()
    while time.time() < start_at + SECONDS and written < len(clicks):
        order_number = f"{kind}-{design}-{start_at:.0f}-{index}-{written}"
        with transaction.atomic():
            if kind == "service":
                write_through_service(seed_data, clicks[written], order_number, store)
            elif kind == "lean":
                write_lean(seed_data, clicks[0], order_number, event)
            else:
                write_sql(seed_data, order_number, statements)
            if design == "old":
                with connection.cursor() as cursor:
                    cursor.execute(OLD_NEXT_SEQUENCE_SQL)
            time.sleep(HOLD)
        written += 1
        last_commit = time.time()
    cpu = time.process_time() - cpu_before
    connection.close()
    results.put((written, last_commit, cpu))


def sequencer(stop_at: float) -> None:
    """Beat's sequencer job: a run every SEQUENCER_INTERVAL seconds."""
    while time.time() < stop_at:
        sequence_committed_changes(max_runs=50)
        time.sleep(SEQUENCER_INTERVAL)
    connection.close()


def run_phase(phase: tuple[str, str], clicks: list[str], seed_data: dict) -> dict:
    # Forked children must not share the parent's connection: each opens its own.
    connection.close()
    start_at = time.time() + 2  # every writer connected and ready first
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [
        context.Process(
            target=writer,
            args=(phase, i, clicks[i * CLICKS_PER_WRITER : (i + 1) * CLICKS_PER_WRITER],
                  seed_data, start_at, queue),
        )
        for i in range(WRITERS)
    ]  # fmt: skip
    if phase[1] == "new":
        processes.append(context.Process(target=sequencer, args=(start_at + SECONDS + 1,)))
    for process in processes:
        process.start()
    results = [queue.get() for _ in range(WRITERS)]
    for process in processes:
        process.join()
    written = sum(count for count, _, _ in results)
    elapsed = max(last for _, last, _ in results) - start_at
    cpu = sum(seconds for _, _, seconds in results)
    return {
        "phase": phase,
        "written": written,
        "seconds": elapsed,
        "rate": written / elapsed,
        "cpu_ms": cpu * 1000 / max(written, 1),
    }


def check_numbering() -> str:
    """Number what is left, then check every change has a number, also in its snapshot."""
    sequence_committed_changes(max_runs=1000)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(sequence), min(sequence), max(sequence), "
            f"count(*) FILTER (WHERE (snapshot->>'change')::bigint IS DISTINCT FROM sequence) "
            f"FROM {ConversionChange._meta.db_table} "
            "WHERE snapshot->>'order_number' LIKE '%%-new-%%'"
        )
        rows, numbered, low, high, mismatched = cursor.fetchone()
    assert rows == numbered, f"{rows - numbered} changes left unnumbered"
    assert mismatched == 0, f"{mismatched} snapshots with another change number"
    return f"{rows:,} changes of the new design, numbered {low:,}…{high:,}"


def main() -> None:
    phases = [(kind, design) for _ in range(ROUNDS) for kind in KINDS for design in ("old", "new")]
    recreate_database()
    # Only the service writers take a new click per write; the others write on one.
    seed_data = seed(max(sum(kind == "service" for kind, _ in phases), 1))
    seed_data["document"] = template_document(seed_data)
    seed_data["template"] = template_conversion(seed_data)
    clicks_per_phase = WRITERS * CLICKS_PER_WRITER
    results = []
    service_phases_run = 0
    for phase in phases:
        slot = service_phases_run if phase[0] == "service" else 0
        service_phases_run += phase[0] == "service"
        clicks = seed_data["clicks"][slot * clicks_per_phase : (slot + 1) * clicks_per_phase]
        result = run_phase(phase, clicks, seed_data)
        print(
            f"{phase[0]} {phase[1]}: {result['written']:,} writes in {result['seconds']:.1f} s, "
            f"{result['cpu_ms']:.1f} ms writer CPU each",
            flush=True,
        )
        results.append(result)
        if phase[1] == "old":
            # The old phase's changes are numbered too, outside any timing.
            sequence_committed_changes(max_runs=1000)
    checked = check_numbering()
    load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        f"- {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}; load average "
        f"after the run {load_average}",
        f"- command: `make bench-feed` (`.venv/bin/python bench/feed_writers.py`), "
        f"BENCH_WRITERS={WRITERS}, BENCH_SECONDS={SECONDS:g}, BENCH_HOLD_MS={HOLD * 1000:g}, "
        f"BENCH_ROUNDS={ROUNDS}",
        f"- {WRITERS} writer processes, each its own PostgreSQL connection, each transaction "
        f"held {HOLD * 1000:g} ms before its commit; phases alternate old and new",
    ]
    for kind in KINDS:
        rates = {
            design: [r for r in results if r["phase"] == (kind, design)]
            for design in ("old", "new")
        }
        shown = {
            design: " / ".join(f"{r['rate']:,.0f}" for r in runs) for design, runs in rates.items()
        }
        cpu = {design: sum(r["cpu_ms"] for r in runs) / len(runs) for design, runs in rates.items()}
        ratio = sum(r["rate"] for r in rates["new"]) / sum(r["rate"] for r in rates["old"])
        lines.append(
            f"- {kind} writers: old design {shown['old']} writes/s ({cpu['old']:.1f} ms writer "
            f"CPU each), new design {shown['new']} writes/s ({cpu['new']:.1f} ms): "
            f"**new/old = {ratio:.1f}x**"
        )
    lines.append(f"- {checked}, none left unnumbered")
    print("\n" + "\n".join(lines) + "\n")


def template_document(seed_data: dict) -> dict:
    """A real conversion document (rolled back) for the lean writers' changes."""
    with transaction.atomic():
        conversion = Conversion.objects.create(
            kind=EventKind.TRANSACTION,
            program_id=seed_data["program"],
            partner_id=seed_data["partner"],
            click_id=seed_data["clicks"][0],
            event=Event.objects.get(uuid=seed_data["shoes"]),
            order_number="template",
            order_sum=2125,
            vat_sum=425,
            currency="SEK",
            source=ConversionSource.API,
            confirmed=True,
        )
        document = conversion_document(conversion, lines=[], flags=[])
        transaction.set_rollback(True)
    return json.loads(json.dumps(document, default=str))


def template_conversion(seed_data: dict) -> int:
    """A stored conversion the sql writers copy (its change is numbered like the others)."""
    event = Event.objects.get(uuid=seed_data["shoes"])
    conversion = Conversion.objects.create(
        kind=EventKind.TRANSACTION,
        program_id=seed_data["program"],
        partner_id=seed_data["partner"],
        click_id=seed_data["clicks"][0],
        event=event,
        order_number="template",
        order_sum=2125,
        vat_sum=425,
        currency="SEK",
        source=ConversionSource.API,
        confirmed=True,
    )
    return conversion.pk


if __name__ == "__main__":
    main()
