"""`make bench-pgbouncer`: Retrack straight to PostgreSQL and through PgBouncer, side by side.

In one run on one machine:

1. starts a private PgBouncer in transaction mode (Debian's package) on BENCH_PORT + 2,
   with BENCH_POOL_SIZE (4) server connections for the 8 threads of gunicorn's 4 × 2;
2. clicks: makes bench/clicks.py's database (BENCH_DATABASE, default
   retrack_bench_pgbouncer) and serves Retrack twice, identical but for the database:
   `direct` (DATABASE_URL at PostgreSQL) and `pgbouncer` (DATABASE_URL at PgBouncer,
   DATABASE_POOLER=transaction); drives the tracking link with bench/clicks.py's wrk
   script, alternating app by app at each level (BENCH_CONCURRENCY) for BENCH_ROUNDS;
3. store API: the same with bench/bench_conversions.py's seed and wrk script (3-line
   transactions, a new order number each) on the database BENCH_DATABASE + "_api", at
   BENCH_API_CONCURRENCY (16) connections;
4. counts the CPU that the app's gunicorn workers, the PostgreSQL backends of its
   database and PgBouncer spent per request (from /proc), checks that the rows stored
   equal the answers read (at most one in flight per connection more), and writes the
   "## PgBouncer in transaction mode" section of bench/RESULTS.md.

Run it under the benchmark lock:
`flock /tmp/retrack-bench.lock .venv/bin/python bench/pgbouncer.py`.
"""

import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import ModuleType

import psycopg

os.environ.setdefault("BENCH_DATABASE", "retrack_bench_pgbouncer")
os.environ.setdefault("BENCH_PORT", "18171")


def bench_module(name: str) -> ModuleType:
    """bench/<name>.py, loaded under another name: `clicks` is also the Django app."""
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", Path(__file__).parent / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# bench/clicks.py, configured by the variables above.
bench = bench_module("clicks")

POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "4"))
API_CONCURRENCY = [int(level) for level in os.environ.get("BENCH_API_CONCURRENCY", "16").split(",")]
BOUNCER_PORT = bench.PORT + 2
SECTION = "## PgBouncer in transaction mode"


@contextmanager
def pgbouncer(folder: Path):
    ini = folder / "pgbouncer.ini"
    (folder / "users.txt").write_text('"postgres" ""\n')
    ini.write_text(
        "[databases]\n* = host=127.0.0.1 port=5432\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {BOUNCER_PORT}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\npool_mode = transaction\n"
        f"default_pool_size = {POOL_SIZE}\nmax_client_conn = 500\n"
    )
    binary = "/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else "pgbouncer"
    as_user = ["-u", "nobody"] if os.getuid() == 0 else []
    process = subprocess.Popen([binary, *as_user, str(ini)], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                url = f"postgres://postgres@127.0.0.1:{BOUNCER_PORT}/postgres"
                psycopg.connect(url, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def children(pid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
        except OSError:
            continue
    return found


def backends(database: str) -> list[int]:
    with psycopg.connect(f"{bench.PG_SERVER}/postgres") as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [pid for (pid,) in rows]


def cpu_seconds(groups: dict[str, list[int]]) -> dict[str, float]:
    hertz = os.sysconf("SC_CLK_TCK")
    totals = {}
    for name, pids in groups.items():
        ticks = 0
        for pid in pids:
            try:
                ticks += cpu_ticks(pid)
            except OSError:
                continue
        totals[name] = ticks / hertz
    return totals


def measured(app: dict, database: str, bouncer_pid: int, load: Callable[[], dict]) -> dict:
    """`load()`'s result with the CPU per request of this app's workers, of every backend
    of `database` (only the app under load uses it meanwhile) and of PgBouncer."""
    groups = {
        "app": children(app["process"].pid),
        "postgres": backends(database),
        "pgbouncer": [bouncer_pid],
    }
    before = cpu_seconds(groups)
    result = load()
    after = cpu_seconds(groups)
    result["cpu_ms"] = {
        name: (after[name] - before[name]) * 1000 / max(result["requests"], 1) for name in groups
    }
    return result


def two_apps(database: str, environment: dict[str, str]) -> list[dict]:
    """Retrack straight to `database` and through PgBouncer to it."""
    direct = {**environment, "DATABASE_URL": f"{bench.PG_SERVER}/{database}"}
    through = {
        **environment,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{BOUNCER_PORT}/{database}",
        "DATABASE_POOLER": "transaction",
    }
    return [
        {"name": "direct", "key": "direct", "environment": direct, "runs": []},
        {"name": "PgBouncer", "key": "pgbouncer", "environment": through, "runs": []},
    ]


@contextmanager
def served(apps: list[dict]):
    with ExitStack() as stack:
        for offset, app in enumerate(apps):
            app["port"] = bench.PORT + offset
            app["process"] = stack.enter_context(
                bench.serving("retrack.wsgi", app["port"], app["environment"])
            )
        yield


def click_phase(bouncer_pid: int) -> list[dict]:
    bench.say(f"Preparing {bench.DATABASE}...")
    ids = bench.prepare_database()
    apps = two_apps(bench.DATABASE, bench.django_environment())
    with served(apps):
        for app in apps:
            bench.run_wrk(app["port"], bench.click_path(ids, "warmup"), 8, bench.WARMUP)
        for round_number in range(1, bench.ROUNDS + 1):
            for connections in bench.CONCURRENCY:
                for app in apps:
                    result = measured(
                        app,
                        bench.DATABASE,
                        bouncer_pid,
                        partial(
                            bench.load_level,
                            app["key"],
                            app["port"],
                            ids,
                            connections,
                            round_number,
                        ),
                    )
                    result["rate"] = result["clicks_per_second"]
                    result["exact"] = 0 <= result["stored"] - result["redirects"] <= connections
                    app["runs"].append(result)
    return apps


def store_api_phase(bouncer_pid: int) -> list[dict]:
    """bench/bench_conversions.py's create load (3-line transactions, wrk), on both apps."""
    # It sets Django's environment (its own database) when loaded: loaded only now, and
    # it reads BENCH_CONCURRENCY as space-separated levels, bench/clicks.py as commas.
    os.environ["BENCH_CONCURRENCY"] = " ".join(str(level) for level in API_CONCURRENCY)
    api = bench_module("bench_conversions")

    api.DATABASE = f"{bench.DATABASE}_api"
    os.environ["DATABASE_URL"] = f"{bench.PG_SERVER}/{api.DATABASE}"
    bench.say(f"Preparing {api.DATABASE}...")
    api.recreate_database()
    data = api.seed()
    apps = two_apps(api.DATABASE, bench.django_environment())
    with served(apps), tempfile.TemporaryDirectory() as folder:
        lua = Path(folder) / "create.lua"

        def create_load(port: int, connections: int, run: str, seconds: int) -> dict:
            api.write_lua_data(lua, data, "create", run)
            output = subprocess.run(
                [
                    "wrk",
                    f"-t{min(2, connections)}",
                    f"-c{connections}",
                    f"-d{seconds}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(bench.ROOT / "bench" / "conversions.lua"),
                    f"http://127.0.0.1:{port}",
                ],
                env={**os.environ, "BENCH_DATA": str(lua)},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            line = next(row for row in output.splitlines() if row.startswith("RESULT "))
            result = json.loads(line.removeprefix("RESULT "))
            result.update(
                connections=connections, rate=result["requests"] / (result["duration_us"] / 1e6)
            )
            result["p50_us"], result["p99_us"] = result["p50"], result["p99"]
            with psycopg.connect(f"{bench.PG_SERVER}/{api.DATABASE}") as connection:
                (stored,) = connection.execute(
                    "SELECT count(*) FROM conversions_conversion WHERE order_number LIKE %s",
                    (f"{run}-%",),
                ).fetchone()
            result["exact"] = (
                0 <= stored - result["created"] <= connections and not result["refused"]
            )
            bench.say(
                f"  store API {run:28} {result['rate']:6.0f} tx/s  "
                f"p50 {result['p50'] / 1000:6.1f} ms  201s {result['created']}  "
                f"stored {stored}  refused {result['refused']}"
            )
            return result

        for app in apps:
            create_load(app["port"], 4, f"warm{app['key']}", bench.WARMUP)
        for round_number in range(1, bench.ROUNDS + 1):
            for connections in API_CONCURRENCY:
                for app in apps:
                    run = f"{app['key']}r{round_number}c{connections}"
                    app["runs"].append(
                        measured(
                            app,
                            api.DATABASE,
                            bouncer_pid,
                            partial(create_load, app["port"], connections, run, bench.DURATION),
                        )
                    )
    return apps


def main() -> int:
    bench.ensure_wrk()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = " ".join(f"{value:.2f}" for value in os.getloadavg())
    with tempfile.TemporaryDirectory() as folder, pgbouncer(Path(folder)) as bouncer:
        clicks = click_phase(bouncer.pid)
        transactions = store_api_phase(bouncer.pid)
    load_after = " ".join(f"{value:.2f}" for value in os.getloadavg())
    section = report(clicks, transactions, date, load_before, load_after)
    write_section(section)
    print(section)
    return 0


def report(clicks: list[dict], transactions: list[dict], date: str, before: str, after: str):
    lines = [
        SECTION,
        "",
        f"`flock /tmp/retrack-bench.lock .venv/bin/python bench/pgbouncer.py` "
        f"(`make bench-pgbouncer`), run {date}: Retrack served twice side by side under "
        f"gunicorn `{bench.describe_gunicorn()}`, straight to PostgreSQL (`direct`) and "
        f"through PgBouncer {pgbouncer_version()} in transaction mode with "
        f"{POOL_SIZE} server connections (`DATABASE_POOLER=transaction`), PgBouncer, "
        "PostgreSQL, both apps and wrk on this one 2-core machine. wrk, "
        f"{bench.DURATION} s per run, the two alternating at each level, {bench.ROUNDS} "
        f"round(s); medians over the rounds. Load average before: {before}; after: {after}.",
        "",
        "Clicks (`GET /track/v2/click`, bench/clicks.py's database and wrk script):",
        "",
        *table(clicks, "clicks/s", bench.CONCURRENCY),
        "",
        summary(clicks, "each 302's click (stored − 302s read"),
        "",
        "Store API creates (`POST /api/v2/transactions`, 3 lines, bench/bench_conversions.py's "
        "seed and wrk script):",
        "",
        *table(transactions, "transactions/s", API_CONCURRENCY),
        "",
        summary(transactions, "each 201's conversion (stored − 201s read"),
    ]
    return "\n".join(lines) + "\n"


def table(apps: list[dict], unit: str, levels: list[int]) -> list[str]:
    lines = [
        f"| connections | app | {unit} | p50 | p99 | "
        "CPU per request: gunicorn / PostgreSQL / PgBouncer |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for level in levels:
        for app in apps:
            runs = [run for run in app["runs"] if run["connections"] == level]
            cpu = {
                name: statistics.median(run["cpu_ms"][name] for run in runs)
                for name in ("app", "postgres", "pgbouncer")
            }
            lines.append(
                f"| {level} | {app['name']} "
                f"| {statistics.median(run['rate'] for run in runs):.0f} "
                f"| {statistics.median(run['p50_us'] for run in runs) / 1000:.1f} ms "
                f"| {statistics.median(run['p99_us'] for run in runs) / 1000:.1f} ms "
                f"| {cpu['app']:.2f} / {cpu['postgres']:.2f} / {cpu['pgbouncer']:.2f} ms |"
            )
    return lines


def summary(apps: list[dict], stored: str) -> str:
    direct, through = apps
    ratios = [b["rate"] / a["rate"] for a, b in zip(direct["runs"], through["runs"], strict=True)]
    exact = all(run["exact"] for app in apps for run in app["runs"])
    return (
        "Through PgBouncer against direct, run by run: median "
        f"**{statistics.median(ratios):.0%}** (runs {min(ratios):.0%} to {max(ratios):.0%}). "
        f"Every run stored {stored} between 0 and the connections in flight): "
        f"**{'yes' if exact else 'NO'}**."
    )


def pgbouncer_version() -> str:
    binary = "/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else "pgbouncer"
    output = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    return output.split()[1] if output else "?"


def write_section(section: str) -> None:
    text = bench.RESULTS.read_text()
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    bench.RESULTS.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
