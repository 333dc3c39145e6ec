"""The report log's own cost per store API report, measured in isolation.

The create bench (`bench/bench_conversions.py`) swings by a third between runs of the same
tree on a shared machine, more than the log could cost. This times the log alone: it calls
`log_report` as the store API does after a create (one autocommitted INSERT with the
request's body, here the bench's three-line transaction), in rounds of BENCH_CALLS (3000)
calls, and reports per call the CPU of this Python process, the CPU of its PostgreSQL
backend (from /proc, as the create bench counts it) and the wall time. Compare with the
create bench's CPU ms per request for the whole create path.

Own database BENCH_DATABASE (retrack_bench_report_log, dropped and made afresh). Run:
`flock /tmp/retrack-bench.lock .venv/bin/python bench/report_log_cost.py`.
"""

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = os.environ.get("BENCH_DATABASE", "retrack_bench_report_log")
CALLS = int(os.environ.get("BENCH_CALLS", "3000"))
ROUNDS = 3

os.environ.update(
    {
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "retrack.settings",
    }
)
# Python puts bench/ first on the path, where bench/clicks.py would shadow the clicks app.
sys.path[:] = [str(ROOT)] + [
    entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"
]


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {DATABASE}")


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from conversions.models import ReportOutcome, ReportSource
    from conversions.services.report_log import ReportVerdict, log_report
    from tests.factories import ConversionFactory

    call_command("migrate", verbosity=0)
    conversion = ConversionFactory()
    body = {
        "event": str(conversion.event.uuid),
        "click": str(conversion.click_id),
        "orderNumber": "692549563",
        "orderSum": 42200,
        "vatSum": 8440,
        "currency": "SEK",
        "products": [
            {
                "event": str(conversion.event.uuid),
                "reference": f"SKU-{n}",
                "name": name,
                "quantity": 1,
                "price": 12500,
                "vat": 2500,
            }
            for n, name in enumerate(["Running shoe", "Sock", "Jacket"])
        ],
    }
    payload = json.dumps(body).encode()
    verdict = ReportVerdict(
        ReportOutcome.CREATED, 201, program=conversion.program, conversion=conversion
    )

    def log_once() -> None:
        log_report(
            verdict,
            source=ReportSource.API,
            kind="transaction",
            store_id=conversion.program.store_id,
            payload=payload,
            sent=body,
        )

    for _ in range(200):
        log_once()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    print(f"payload {len(payload)} bytes; {CALLS} calls a round, each its own INSERT (autocommit)")
    for number in range(1, ROUNDS + 1):
        python_before, backend_before = time.process_time(), backend_cpu_seconds(backend)
        began = time.perf_counter()
        for _ in range(CALLS):
            log_once()
        wall = time.perf_counter() - began
        python = time.process_time() - python_before
        postgres = backend_cpu_seconds(backend) - backend_before
        print(
            f"round {number}: per call {python / CALLS * 1e6:.0f} µs Python CPU, "
            f"{postgres / CALLS * 1e6:.0f} µs PostgreSQL CPU, {wall / CALLS * 1e6:.0f} µs wall"
        )


if __name__ == "__main__":
    main()
