"""The CPU one store-API create costs in-process: `retrack.wsgi.application` in a loop.

`make bench-conversions` measures the worker CPU under gunicorn and wrk, where the
machine's other work moves the figure by a millisecond or two; this one counts only the
process's own work. It seeds its own PostgreSQL database the way bench_conversions.py does
(a store, a program with three events, a partner, a store token, clicks), then POSTs
`BENCH_CREATES` transactions with three product lines each (after 200 warm-up ones) to
/api/v2/transactions, checks that every answer is a 201, and prints the CPU time per
create (`time.process_time()`): the mean, and the best of blocks of 50; and the CPU its
PostgreSQL backend spent per create (from /proc: PostgreSQL must run on this machine).

With BENCH_PROFILE=1 it also prints a cProfile of the timed loop (process-time clock),
sorted by cumulative time, to show where the time goes.

To count instructions instead, which no other load changes, run it under valgrind twice,
with two numbers of creates, and divide the difference by the difference (as in
bench/clicks_cpu.py).

Settings (environment): BENCH_DATABASE (retrack_bench_conversions_cpu), BENCH_CREATES
(1000), BENCH_WARMUP (200), BENCH_PROFILE ("0"), BENCH_BLOCKS ("1" prints every block's
figure), BENCH_SEED ("0" reuses the database an earlier run seeded, and its unused
clicks, so that a run under valgrind does not pay for the migrations).
"""

import importlib.util
import io
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
CREATES = int(os.environ.get("BENCH_CREATES", "1000"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "200"))
BLOCK = 50
PROFILE = os.environ.get("BENCH_PROFILE", "0") == "1"


def main() -> None:
    os.environ.setdefault("BENCH_DATABASE", "retrack_bench_conversions_cpu")
    os.environ.setdefault("BENCH_CLICKS", str(WARMUP + CREATES))
    bench = _load("bench_conversions")
    data = _seeded(bench)
    from retrack.wsgi import application

    token = data["token"]
    events = data["events"]
    clicks = iter(data["clicks"])
    run = uuid.uuid4().hex[:8]
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def create(number: int) -> None:
        body = json.dumps(
            {
                "event": events[0],
                "click": next(clicks),
                "orderNumber": f"{run}-{number}",
                "orderSum": 42200,
                "vatSum": 8440,
                "currency": "SEK",
                "products": [
                    {
                        "event": events[0],
                        "reference": "SKU-1",
                        "name": "Running shoe",
                        "quantity": 1,
                        "price": 12500,
                        "vat": 2500,
                    },
                    {
                        "event": events[1],
                        "reference": "SKU-2",
                        "name": "Sock",
                        "quantity": 2,
                        "price": 4900,
                        "vat": 980,
                    },
                    {
                        "event": events[2],
                        "reference": "SKU-3",
                        "name": "Jacket",
                        "quantity": 1,
                        "price": 19900,
                        "vat": 3980,
                    },
                ],
            }
        ).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v2/transactions",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "18201",
            "HTTP_HOST": "127.0.0.1:18201",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "REMOTE_ADDR": "192.0.2.7",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
        }
        b"".join(application(environ, start_response))

    for number in range(WARMUP):
        create(number)
    profiler = None
    if PROFILE:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    backend = _backend_pid()
    backend_started = _process_cpu(backend)
    blocks = []
    started = time.process_time()
    for first in range(WARMUP, WARMUP + CREATES, BLOCK):
        block_started = time.process_time()
        numbers = range(first, min(first + BLOCK, WARMUP + CREATES))
        for number in numbers:
            create(number)
        blocks.append((time.process_time() - block_started) / len(numbers))
    per_create = (time.process_time() - started) / CREATES
    backend_per_create = (_process_cpu(backend) - backend_started) / CREATES
    if profiler is not None:
        profiler.disable()
    if set(statuses) != {"201 Created"}:
        sys.exit(f"not every answer was a 201: {sorted(set(statuses))}")
    print(
        f"{CREATES} creates: {per_create * 1e3:.2f} ms of CPU per create"
        f" (best block of {BLOCK}: {min(blocks) * 1e3:.2f} ms);"
        f" its PostgreSQL backend: {backend_per_create * 1e3:.2f} ms"
    )
    if os.environ.get("BENCH_BLOCKS") == "1":
        print("blocks (ms):", " ".join(f"{block * 1e3:.1f}" for block in blocks))
    if profiler is not None:
        import pstats

        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)


def _seeded(bench: ModuleType) -> dict:
    """The token, events and unused clicks: seeded afresh, or with BENCH_SEED=0 reused."""
    saved = Path(tempfile.gettempdir()) / f"{os.environ['BENCH_DATABASE']}.json"
    if os.environ.get("BENCH_SEED", "1") != "0":
        bench.recreate_database()
        data = bench.seed()
        saved.write_text(json.dumps({"token": data["token"], "events": data["events"]}))
        return data
    import django

    django.setup()
    from django.db import connection

    data = json.loads(saved.read_text())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT click.uuid FROM clicks_click click WHERE NOT EXISTS"
            " (SELECT 1 FROM conversions_conversion conversion"
            " WHERE conversion.click_id = click.uuid) LIMIT %s",
            [WARMUP + CREATES],
        )
        data["clicks"] = [str(uuid) for (uuid,) in cursor.fetchall()]
    if len(data["clicks"]) < WARMUP + CREATES:
        sys.exit("not enough unused clicks left: seed afresh (BENCH_SEED=1)")
    return data


def _backend_pid() -> int:
    """The PostgreSQL backend serving this process's connection (kept: CONN_MAX_AGE)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process on this machine has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load(name: str) -> ModuleType:
    # By path: on sys.path, bench/<name>.py could shadow an app of the same name.
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    main()
