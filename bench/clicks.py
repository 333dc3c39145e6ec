"""`make bench-clicks`: the click hot path under load, against a bare WSGI baseline.

In one run on one machine:

1. creates its own PostgreSQL database (dropped and made anew), migrates it, onboards a
   program with a redirect page and a partner;
2. serves, side by side under the same gunicorn settings: Retrack as configured
   (`retrack.wsgi`) and the baseline (bench/clicks_baseline.py: no Django, the same
   single INSERT into the same table with psycopg, the same 302);
3. drives GET /track/v2/click on each with wrk at a few concurrency levels for a fixed
   duration, the apps alternating level by level for a few rounds so that other load on
   the machine falls on all of them alike; reports clicks/s and p50/p95/p99 and the ratio
   to the baseline;
4. drives Retrack as configured at a fixed 200 clicks/s with an open-loop generator written here
   (Python threads + http.client; latency counted from each request's intended start, so
   a slow answer also delays the ones queued behind it) and checks that every 302 left
   exactly one stored click, the one named in its Location;
5. writes the figures to the "## Clicks" section of bench/RESULTS.md.

Settings (environment): BENCH_PG (server URL, default postgres://postgres@127.0.0.1:5432),
BENCH_DATABASE (retrack_bench_clicks), BENCH_PORT (18101; the next two ports are used
too), BENCH_WORKERS (4), BENCH_THREADS (2), BENCH_WORKER_CLASS (gthread), BENCH_DURATION
(10 s per run), BENCH_ROUNDS (3), BENCH_CONCURRENCY (8,32,64), BENCH_RATE (200),
BENCH_RATE_SECONDS (30), BENCH_NOTE (a sentence added to the results, e.g. about other
load on the machine).
"""

import http.client
import itertools
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "RESULTS.md"
PROFILE_HEADING = "### Clicks: where the time goes"
LUA = ROOT / "bench" / "clicks.lua"

PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("BENCH_DATABASE", "retrack_bench_clicks")
DATABASE_URL = f"{PG_SERVER}/{DATABASE}"
HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_PORT", "18101"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "gthread")
DURATION = int(os.environ.get("BENCH_DURATION", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP = 3
CONCURRENCY = [int(level) for level in os.environ.get("BENCH_CONCURRENCY", "8,32,64").split(",")]
RATE = int(os.environ.get("BENCH_RATE", "200"))
RATE_SECONDS = int(os.environ.get("BENCH_RATE_SECONDS", "30"))
RATE_THREADS = 32
NOTE = os.environ.get("BENCH_NOTE", "")

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
REDIRECT_PAGE = "https://www.bench-store.example/retrack"
DEEPLINK = "https://www.bench-store.example/skor/sneakers?color=red&size=42"
ONBOARDING = {
    "partners": [{"name": "Bench Partner"}],
    "stores": [
        {
            "name": "Bench Store",
            "programs": [
                {
                    "name": "Bench Store SE",
                    "currency": "SEK",
                    "landing_url": "https://www.bench-store.example/",
                    "allowed_domains": ["bench-store.example"],
                    "redirect_page_url": REDIRECT_PAGE,
                    "partners": ["Bench Partner"],
                    "events": [{"name": "Everything", "kind": "transaction", "percent": "8"}],
                }
            ],
        }
    ],
}


def say(message: str) -> None:
    print(message, flush=True)


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    say("Installing wrk (Debian package)...")
    if subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True).returncode:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)


def django_environment() -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RETRACK_", "DJANGO_")) and key not in {"DEBUG", "CACHE_URL"}
    }
    environment.update(
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-not-for-anything-else",
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=DATABASE_URL,
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="retrack.settings",
    )
    return environment


def prepare_database() -> dict:
    """A fresh database with the onboarded program; its uuids and ids."""
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    environment = django_environment()
    manage = [str(BIN / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=environment, check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as document:
        json.dump(ONBOARDING, document)
        document.flush()
        output = subprocess.run(
            [*manage, "onboard", document.name],
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    onboarded = json.loads(output)
    partner_uuid = onboarded["partners"][0]["uuid"]
    program_uuid = onboarded["stores"][0]["programs"][0]["uuid"]
    with psycopg.connect(DATABASE_URL) as connection:
        (partner_id,) = connection.execute(
            "SELECT id FROM partners_partner WHERE uuid = %s", (partner_uuid,)
        ).fetchone()
        (program_id,) = connection.execute(
            "SELECT id FROM stores_program WHERE uuid = %s", (program_uuid,)
        ).fetchone()
    return {
        "partner_uuid": partner_uuid,
        "program_uuid": program_uuid,
        "partner_id": partner_id,
        "program_id": program_id,
    }


def gunicorn_settings() -> list[str]:
    return [
        "--workers",
        str(WORKERS),
        "--worker-class",
        WORKER_CLASS,
        "--threads",
        str(THREADS),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]


def describe_gunicorn() -> str:
    return " ".join(gunicorn_settings()[:6])


@contextmanager
def serving(application: str, port: int, environment: dict[str, str]):
    """Gunicorn serving `application` on `port` until the block ends; only it is stopped."""
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), application, "--bind", f"{HOST}:{port}", *gunicorn_settings()],
        cwd=ROOT,
        env=environment,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {application} did not start") from None
                time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def click_path(ids: dict, ref: str) -> str:
    return (
        f"/track/v2/click?publisher={ids['partner_uuid']}&program={ids['program_uuid']}"
        f"&ref={ref}&deeplink={quote(DEEPLINK, safe='')}"
    )


def run_wrk(port: int, path: str, connections: int, seconds: int) -> dict:
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-H",
        f"User-Agent: {USER_AGENT}",
        "-s",
        str(LUA),
        f"http://{HOST}:{port}{path}",
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_RESULT "))
    result = json.loads(line.removeprefix("WRK_RESULT "))
    result["clicks_per_second"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def stored_clicks(ref_pattern: str) -> list[tuple[str, str]]:
    with psycopg.connect(DATABASE_URL) as connection:
        return connection.execute(
            "SELECT ref, uuid::text FROM clicks_click WHERE ref LIKE %s", (ref_pattern,)
        ).fetchall()


def load_level(name: str, port: int, ids: dict, connections: int, round_number: int) -> dict:
    """One wrk run; its clicks carry their own ref so that they can be counted."""
    ref = f"{name}-r{round_number}-c{connections}"
    result = run_wrk(port, click_path(ids, ref), connections, DURATION)
    result.update(connections=connections, round=round_number)
    result["stored"] = len(stored_clicks(ref))
    result["redirects"] = result["statuses"].get("302", 0)
    other = sum(result["statuses"].values()) - result["redirects"]
    say(
        f"  round {round_number} {name:8} c={connections:3} "
        f"{result['clicks_per_second']:7.0f} clicks/s  p50 {result['p50_us'] / 1000:6.2f} ms  "
        f"p95 {result['p95_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:6.2f} ms  "
        f"302s {result['redirects']}  stored {result['stored']}  other {other}  "
        f"socket errors {result['socket_errors']}"
    )
    return result


def best_per_level(runs: list[dict]) -> list[dict]:
    """Per concurrency level, the round with the highest throughput."""
    return [
        max((run for run in runs if run["connections"] == level), key=lambda run: run["requests"])
        for level in CONCURRENCY
    ]


def run_at_rate(port: int, prefix: str, ids: dict, rate: int, seconds: int) -> dict:
    """Open loop at `rate` requests/s; latency from each request's intended start."""
    total = rate * seconds
    counter = itertools.count()
    results: list[tuple[int | None, float, str | None] | None] = [None] * total
    start = time.perf_counter() + 0.5

    def worker() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        while (index := next(counter)) < total:
            intended = start + index / rate
            delay = intended - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                connection.request(
                    "GET", click_path(ids, f"{prefix}-{index}"), headers={"User-Agent": USER_AGENT}
                )
                response = connection.getresponse()
                response.read()
                status, location = response.status, response.getheader("Location")
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                status, location = None, None
                connection.close()
            results[index] = (status, time.perf_counter() - intended, location)

    workers = [threading.Thread(target=worker) for _ in range(RATE_THREADS)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    latencies = sorted(result[1] for result in results)
    redirected = {
        f"{prefix}-{index}": parse_qs(urlsplit(result[2]).query)["click"][0]
        for index, result in enumerate(results)
        if result[0] == 302
    }
    stored = stored_clicks(f"{prefix}-%")
    stored_map = dict(stored)

    def percentile(fraction: float) -> float:
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000

    return {
        "requests": total,
        "redirects": len(redirected),
        "other": total - len(redirected),
        "stored": len(stored),
        "every_redirect_stored_once": len(stored) == len(stored_map) == len(redirected)
        and stored_map == redirected,
        "p50_ms": percentile(0.50),
        "p95_ms": percentile(0.95),
        "p99_ms": percentile(0.99),
        "max_ms": latencies[-1] * 1000,
    }


def postgres_version() -> str:
    with psycopg.connect(DATABASE_URL) as connection:
        return connection.execute("SHOW server_version").fetchone()[0].split()[0]


def results_section(apps: list[dict], context: dict) -> str:
    baseline = apps[-1]
    baseline_best = {run["connections"]: run for run in best_per_level(baseline["runs"])}
    lines = [
        "## Clicks",
        "",
        f"`make bench-clicks` (bench/clicks.py), run {context['date']} on a "
        f"{context['cores']}-core machine (`nproc` = {context['cores']}), PostgreSQL "
        f"{context['postgres']} on the same host (default configuration: synchronous commit), "
        f"Python {context['python']}. Two apps ran side by side under gunicorn "
        f"`{describe_gunicorn()}`: Retrack as configured (`retrack.wsgi`, DEBUG off, the "
        "default cache, the tracking link answered by the WSGI router, no connection "
        "health checks), and the baseline "
        "(bench/clicks_baseline.py: no Django, the same INSERT with psycopg, which prepares "
        "it after five uses, the same 302). Load from wrk (`-t2`, "
        f"keep-alive, {DURATION} s per run after a {WARMUP} s warm-up), the apps alternating "
        f"level by level, {ROUNDS} rounds; the table shows each app's best round per level. "
        f"Load average before the run: {context['load']}; after: {context['load_after']}.",
        "",
    ]
    if NOTE:
        lines += [NOTE, ""]
    if context["busy"]:
        lines += [
            "The machine was shared: its load average exceeded its core count before the "
            "run, so absolute figures are low and vary between rounds; the apps "
            "alternated so that the ratios stay comparable.",
            "",
        ]
    lines += [
        "| connections | app | clicks/s | p50 | p95 | p99 | of baseline |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for level in CONCURRENCY:
        for app in apps:
            run = next(run for run in best_per_level(app["runs"]) if run["connections"] == level)
            share = run["clicks_per_second"] / baseline_best[level]["clicks_per_second"]
            lines.append(
                f"| {level} | {app['name']} | {run['clicks_per_second']:.0f} "
                f"| {run['p50_us'] / 1000:.1f} ms | {run['p95_us'] / 1000:.1f} ms "
                f"| {run['p99_us'] / 1000:.1f} ms | {share:.0%} |"
            )
    baseline_peak = max(run["clicks_per_second"] for run in baseline["runs"])
    lines += [
        "",
        "Throughput against the baseline (target ≥ 60 %): each run divided by the baseline "
        "run right after it (same round and level, so both met the same other load), the "
        "median of those, and the peak against the baseline's peak:",
        "",
    ]
    for app in apps[:-1]:
        paired = sorted(
            ours["clicks_per_second"] / theirs["clicks_per_second"]
            for ours, theirs in zip(app["runs"], baseline["runs"], strict=True)
        )
        median = statistics.median(paired)
        peak = max(run["clicks_per_second"] for run in app["runs"]) / baseline_peak
        lines.append(
            f"- {app['name']}: median **{median:.0%}** (runs {paired[0]:.0%} to "
            f"{paired[-1]:.0%}), peak {peak:.0%}: {'met' if median >= 0.6 else 'missed'}"
        )
    lines += ["", "Every run, clicks/s:", ""]
    for app in apps:
        lines.append(
            f"- {app['name']}: "
            + ", ".join(
                f"c={run['connections']} r{run['round']} {run['clicks_per_second']:.0f}"
                for run in app["runs"]
            )
        )
    lines += [
        "",
        f"At a fixed {RATE} clicks/s for {RATE_SECONDS} s (open loop from Python threads with "
        "http.client, latency counted from each request's intended start; target p99 ≤ 20 ms):",
        "",
    ]
    for app in apps[:1]:
        rate = app["rate"]
        exact = "yes" if rate["every_redirect_stored_once"] else "NO"
        lines.append(
            f"- {app['name']}: p50 {rate['p50_ms']:.1f} ms, p95 {rate['p95_ms']:.1f} ms, "
            f"**p99 {rate['p99_ms']:.1f} ms** ({'met' if rate['p99_ms'] <= 20 else 'missed'}), "
            f"max {rate['max_ms']:.1f} ms; {rate['redirects']} of {rate['requests']} requests "
            f"got a 302, {rate['stored']} clicks were stored, every 302's click UUID stored "
            f"exactly once with its request's ref: **{exact}**."
        )
    runs = [run for app in apps for run in app["runs"]]
    unread = [run["stored"] - run["redirects"] for run in runs]
    lines += [
        "",
        f"Under wrk, {sum(run['redirects'] for run in runs)} 302s were read and "
        f"{sum(run['stored'] for run in runs)} clicks stored; per run the stored clicks "
        f"exceed the 302s read by {min(unread)} to {max(unread)}: wrk stops at its deadline "
        "without reading the answers still in flight, so a run may store up to its number of "
        "connections more clicks than it read 302s (committed and answered, never read), "
        "never fewer.",
        "",
    ]
    return "\n".join(lines)


def write_results(section: str) -> None:
    """Replace the generated part of "## Clicks", keeping a hand-written profile below it."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    pattern = re.compile(
        rf"^## Clicks\n.*?(?=^{re.escape(PROFILE_HEADING)}|^## |\Z)", re.DOTALL | re.MULTILINE
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def main() -> int:
    ensure_wrk()
    context = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "python": sys.version.split()[0],
    }
    say(f"Preparing {DATABASE}...")
    ids = prepare_database()
    context["postgres"] = postgres_version()
    django = django_environment()
    apps = [
        {"name": "Retrack", "key": "retrack", "application": "retrack.wsgi", "environment": django},
        {
            "name": "baseline",
            "key": "baseline",
            "application": "bench.clicks_baseline:application",
            "environment": {
                **django,
                "BASELINE_PARTNER_ID": str(ids["partner_id"]),
                "BASELINE_PROGRAM_ID": str(ids["program_id"]),
                "BASELINE_REDIRECT_PAGE": REDIRECT_PAGE,
            },
        },
    ]
    say(f"Serving on :{PORT}-{PORT + len(apps) - 1} with gunicorn {describe_gunicorn()}")
    with ExitStack() as servers:
        for offset, app in enumerate(apps):
            app["port"], app["runs"] = PORT + offset, []
            servers.enter_context(serving(app["application"], app["port"], app["environment"]))
        for app in apps:
            run_wrk(app["port"], click_path(ids, "warmup"), 8, WARMUP)
        # Alternating the apps level by level spreads other load on the machine over all.
        for round_number in range(1, ROUNDS + 1):
            for connections in CONCURRENCY:
                for app in apps:
                    app["runs"].append(
                        load_level(app["key"], app["port"], ids, connections, round_number)
                    )
        # The latency target is for Retrack as configured.
        for app in apps[:1]:
            say(f"  {app['name']} at {RATE} clicks/s for {RATE_SECONDS} s...")
            rate = app["rate"] = run_at_rate(
                app["port"], f"{app['key']}-rate", ids, RATE, RATE_SECONDS
            )
            say(
                f"  p50 {rate['p50_ms']:.2f} ms  p95 {rate['p95_ms']:.2f} ms  "
                f"p99 {rate['p99_ms']:.2f} ms  max {rate['max_ms']:.2f} ms  "
                f"302s {rate['redirects']}  stored {rate['stored']}  "
                f"exact: {rate['every_redirect_stored_once']}"
            )
    context["load_after"] = " ".join(f"{value:.2f}" for value in os.getloadavg())
    # Only the load before the run tells of other work: afterwards it is mostly this run's.
    context["busy"] = float(context["load"].split()[0]) > os.cpu_count()
    section = results_section(apps, context)
    write_results(section)
    say("")
    say(section)
    say(f"Written to {RESULTS.relative_to(ROOT)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
