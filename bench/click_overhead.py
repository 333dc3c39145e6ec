"""The CPU one click costs in-process, this checkout against an earlier commit.

`bench/clicks.py` measures throughput under wrk, which on a shared machine varies by
more than the few per cent an instrumentation change costs. This measures what such a
change adds: the CPU time (user + system, `time.process_time`) of one process calling
`retrack.wsgi.application` for the tracking link in a loop, against a real PostgreSQL
database, for the two source trees alternately, several rounds, and reports the median
per tree and their ratio. The database's own CPU is the same for both trees (one INSERT)
and is not counted. On a shared machine whole-click figures still drift by tens of per
cent between processes, so it also times the work this checkout adds around a click by
itself (request id, latency histogram, click counter, in prometheus-client's
multiprocess mode as under gunicorn), many thousand times in one process: a figure that
barely moves, to set against the click's CPU. Last, with `OVERHEAD_WRK_ROUNDS` above 0
(default 3), it serves both trees side by side under gunicorn as bench/clicks.py does
(4 workers × 2 threads, gthread; each tree with its own gunicorn.conf.py, if any) and
drives their tracking links with wrk in turn, A B B A each round, so that the two meet
the same other load: throughput of this checkout against the base, run by run.

    flock /tmp/retrack-bench.lock .venv/bin/python bench/click_overhead.py

Settings (environment): OVERHEAD_BASE (the git revision to compare with, default
`main`), OVERHEAD_REPOSITORY (where to find it, default this checkout), BENCH_PG
(default postgres://postgres@127.0.0.1:5432), OVERHEAD_DATABASE (retrack_bench_overhead),
OVERHEAD_CLICKS (2000 per round), OVERHEAD_ROUNDS (9), OVERHEAD_WRK_ROUNDS (3),
OVERHEAD_WRK_SECONDS (10), OVERHEAD_WRK_CONNECTIONS (32), OVERHEAD_PORT (18711 and the next).
"""

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BASE = os.environ.get("OVERHEAD_BASE", "main")
REPOSITORY = os.environ.get("OVERHEAD_REPOSITORY", str(ROOT))
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("OVERHEAD_DATABASE", "retrack_bench_overhead")
CLICKS = int(os.environ.get("OVERHEAD_CLICKS", "2000"))
ROUNDS = int(os.environ.get("OVERHEAD_ROUNDS", "9"))
WRK_ROUNDS = int(os.environ.get("OVERHEAD_WRK_ROUNDS", "3"))
WRK_SECONDS = int(os.environ.get("OVERHEAD_WRK_SECONDS", "10"))
WRK_CONNECTIONS = int(os.environ.get("OVERHEAD_WRK_CONNECTIONS", "32"))
PORT = int(os.environ.get("OVERHEAD_PORT", "18711"))
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
WARMUP = 300
ONBOARDING = {
    "partners": [{"name": "Overhead Partner"}],
    "stores": [
        {
            "name": "Overhead Store",
            "programs": [
                {
                    "name": "Overhead Store SE",
                    "currency": "SEK",
                    "landing_url": "https://www.overhead-store.example/",
                    "allowed_domains": ["overhead-store.example"],
                    "redirect_page_url": "https://www.overhead-store.example/retrack",
                    "partners": ["Overhead Partner"],
                    "events": [{"name": "Everything", "kind": "transaction", "percent": "8"}],
                }
            ],
        }
    ],
}
# Run in this checkout: the work the router adds around a click, best of several repeats.
ADDED_WORK = """
import json, timeit
import django
django.setup()
from time import perf_counter
from retrack.lib.request_ids import bind_request_id, request_id_from, unbind_request_id
from retrack.metrics import count_click, observe_request
def added():
    started = perf_counter()
    request_id = request_id_from(None)
    token = bind_request_id(request_id)
    unbind_request_id(token)
    count_click(302, False)
    observe_request("tracking_link", 302, perf_counter() - started)
timer = timeit.Timer(added)
loops = 20000
print(json.dumps(min(timer.repeat(repeat=7, number=loops)) / loops * 1e6))
"""
# Run inside each tree: warm up, then time CLICKS tracking-link calls; prints µs per click.
MEASURE = """
import io, json, sys, time
import django
django.setup()
from retrack.wsgi import application
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
request_started.disconnect(close_old_connections)
request_finished.disconnect(close_old_connections)
query, clicks, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def start_response(status, headers, exc_info=None):
    assert status.startswith("302"), status
def click(n):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/track/v2/click",
        "QUERY_STRING": f"{query}&ref=overhead-{n}", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "REMOTE_ADDR": "192.0.2.7",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
    }
    b"".join(application(environ, start_response))
for n in range(warmup):
    click(n)
started = time.process_time()
for n in range(clicks):
    click(warmup + n)
print(json.dumps((time.process_time() - started) / clicks * 1e6))
"""


def environment() -> dict[str, str]:
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RETRACK_", "DJANGO_", "PROMETHEUS_", "SENTRY_", "LOG_"))
        and key not in {"DEBUG", "CACHE_URL", "DATABASE_URL"}
    }
    kept.update(
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-not-for-anything-else",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"{PG_SERVER}/{DATABASE}",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="retrack.settings",
        RETRACK_ENV_FILE=os.devnull,
    )
    return kept


def prepare_database(tree: Path) -> str:
    """A fresh database migrated by `tree` with one program; the link's query string."""
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    manage = [PYTHON, "manage.py"]
    env = environment()
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=tree, env=env, check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as document:
        json.dump(ONBOARDING, document)
        document.flush()
        output = subprocess.run(
            [*manage, "onboard", document.name],
            cwd=tree,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    onboarded = json.loads(output)
    partner = onboarded["partners"][0]["uuid"]
    program = onboarded["stores"][0]["programs"][0]["uuid"]
    return f"publisher={partner}&program={program}"


def measure(tree: Path, query: str) -> float:
    # Multiprocess metrics, as gunicorn.conf.py runs them (the earlier tree ignores it).
    with tempfile.TemporaryDirectory(prefix="retrack-metrics-") as metrics:
        env = {**environment(), "PROMETHEUS_MULTIPROC_DIR": metrics}
        output = subprocess.run(
            [PYTHON, "-c", MEASURE, query, str(CLICKS), str(WARMUP)],
            cwd=tree,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return float(output)


def measure_added_work() -> float:
    with tempfile.TemporaryDirectory(prefix="retrack-metrics-") as metrics:
        env = {**environment(), "PROMETHEUS_MULTIPROC_DIR": metrics}
        output = subprocess.run(
            [PYTHON, "-c", ADDED_WORK],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return float(output)


@contextmanager
def serving(tree: Path, port: int):
    """Gunicorn serving `tree`'s retrack.wsgi on `port`, as bench/clicks.py serves it."""
    command = [
        str(Path(PYTHON).parent / "gunicorn"),
        "retrack.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "4",
        "--worker-class",
        "gthread",
        "--threads",
        "2",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=tree, env=environment())
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start in {tree}") from None
                time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def wrk(port: int, query: str) -> float:
    """Clicks per second of one wrk run; every answer must be the 302."""
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{WRK_CONNECTIONS}",
            f"-d{WRK_SECONDS}s",
            "--timeout",
            "10s",
            "-H",
            f"User-Agent: {USER_AGENT}",
            f"http://127.0.0.1:{port}/track/v2/click?{query}&ref=overhead-wrk",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"wrk saw answers other than the redirect:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def compare_throughput(base: Path, query: str) -> None:
    runs: dict[str, list[float]] = {"base": [], "this checkout": []}
    ports = {"base": PORT, "this checkout": PORT + 1}
    with serving(base, ports["base"]), serving(ROOT, ports["this checkout"]):
        for name in ports:
            wrk(ports[name], query)  # warm-up: connections, caches
        for round_number in range(1, WRK_ROUNDS + 1):
            for name in ("base", "this checkout", "this checkout", "base"):
                figure = wrk(ports[name], query)
                runs[name].append(figure)
                print(f"  wrk round {round_number} {name:<14} {figure:7.0f} clicks/s")
    ratios = [this / base for this, base in zip(runs["this checkout"], runs["base"], strict=True)]
    print(
        f"Throughput, median of {len(ratios)} paired runs (c={WRK_CONNECTIONS}): this "
        f"checkout {statistics.median(ratios):.1%} of {BASE} "
        f"(runs {min(ratios):.0%} to {max(ratios):.0%}; medians "
        f"{statistics.median(runs['this checkout']):.0f} and "
        f"{statistics.median(runs['base']):.0f} clicks/s)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="retrack-overhead-base-") as base_folder:
        base = Path(base_folder)
        archive = subprocess.run(
            ["git", "archive", BASE], cwd=REPOSITORY, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        query = prepare_database(ROOT)
        figures: dict[str, list[float]] = {"base": [], "this checkout": []}
        for round_number in range(1, ROUNDS + 1):
            trees = [("base", base), ("this checkout", ROOT)]
            # Each goes first every other round: a process started second finds the
            # table a little bigger and the machine a little warmer.
            for name, tree in trees if round_number % 2 else reversed(trees):
                figure = measure(tree, query)
                figures[name].append(figure)
                print(f"  round {round_number} {name:<14} {figure:7.1f} µs CPU per click")
        if WRK_ROUNDS:
            compare_throughput(base, query)
    added = measure_added_work()
    for label, pick in (("Median", statistics.median), ("Best", min)):
        base_figure, this_figure = pick(figures["base"]), pick(figures["this checkout"])
        print(
            f"{label} CPU per click: {BASE} {base_figure:.1f} µs, this checkout "
            f"{this_figure:.1f} µs: {this_figure / base_figure - 1:+.1%}"
        )
    best_base = min(figures["base"])
    print(
        f"Work added around a click, alone: {added:.2f} µs, "
        f"{added / best_base:.1%} of the base's best CPU per click"
    )


if __name__ == "__main__":
    main()
