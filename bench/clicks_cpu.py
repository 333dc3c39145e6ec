"""The CPU one click costs in-process: `retrack.wsgi.application` called in a loop.

Wall-clock benchmarks on a shared machine spread widely (bench/RESULTS.md); this one
counts only the process's own work. It needs the database `make bench-clicks` leaves
behind (its program and partner), sends `BENCH_CLICKS` tracking-link requests (3000)
after 300 warm-up ones, checks that every answer is a 302 and prints the CPU time per
click (`time.process_time()`).

To count instructions instead, which no other load changes, run it under valgrind
twice, with two numbers of clicks, and divide the difference by the difference:

    PYTHONHASHSEED=0 BENCH_CLICKS=100 valgrind --tool=cachegrind --cache-sim=no \\
        .venv/bin/python bench/clicks_cpu.py
    PYTHONHASHSEED=0 BENCH_CLICKS=600 valgrind --tool=cachegrind --cache-sim=no \\
        .venv/bin/python bench/clicks_cpu.py
    # instructions per click = (I refs of 600 - I refs of 100) / 500

Settings (environment): BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_DATABASE
(retrack_bench_clicks), BENCH_CLICKS (3000).
"""

import importlib.util
import io
import os
import sys
import time
from pathlib import Path
from types import ModuleType

import psycopg

ROOT = Path(__file__).resolve().parent.parent
CLICKS = int(os.environ.get("BENCH_CLICKS", "3000"))
WARMUP = 300
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
DEEPLINK = "https%3A%2F%2Fwww.bench-store.example%2Fskor%2Fsneakers%3Fcolor%3Dred%26size%3D42"


def main() -> None:
    # Retrack as bench/clicks.py serves it: the same environment, DEBUG off, its database.
    bench_clicks = _load_bench_clicks()
    environment = bench_clicks.django_environment()
    os.environ.clear()
    os.environ.update(environment)
    sys.path.insert(0, str(ROOT))
    with psycopg.connect(environment["DATABASE_URL"]) as connection:
        program, partner = connection.execute(
            "SELECT program.uuid, partner.uuid FROM partners_admission admission"
            " JOIN stores_program program ON program.id = admission.program_id"
            " JOIN partners_partner partner ON partner.id = admission.partner_id LIMIT 1"
        ).fetchone()
    from retrack.wsgi import application

    query = f"publisher={partner}&program={program}&ref=38315327&deeplink={DEEPLINK}"
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def click() -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/track/v2/click",
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "18101",
            "HTTP_HOST": "127.0.0.1:18101",
            "REMOTE_ADDR": "192.0.2.7",
            "HTTP_USER_AGENT": USER_AGENT,
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": io.StringIO(),
        }
        b"".join(application(environ, start_response))

    for _ in range(WARMUP):
        click()
    started = time.process_time()
    for _ in range(CLICKS):
        click()
    per_click = (time.process_time() - started) / CLICKS
    if set(statuses) != {"302 Found"}:
        sys.exit(f"not every answer was a 302: {sorted(set(statuses))}")
    print(f"{CLICKS} clicks: {per_click * 1e6:.0f} µs of CPU per click")


def _load_bench_clicks() -> ModuleType:
    # By path: on sys.path, bench/clicks.py would shadow the `clicks` app.
    spec = importlib.util.spec_from_file_location("bench_clicks", ROOT / "bench" / "clicks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    main()
