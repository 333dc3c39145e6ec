"""`make bench-pgbouncer`: the click path straight to PostgreSQL and through PgBouncer.

In one run on one machine, with bench/clicks.py's database set-up, gunicorn settings
and wrk script:

1. creates its own database (BENCH_DATABASE, default retrack_bench_pgbouncer) and
   onboards the bench program;
2. starts a private PgBouncer in transaction mode (Debian's package) on BENCH_PORT + 2,
   with BENCH_POOL_SIZE (4) server connections for the 8 threads of gunicorn's 4 × 2;
3. serves Retrack twice side by side, identical but for the database: `direct`
   (DATABASE_URL at PostgreSQL) and `pgbouncer` (DATABASE_URL at PgBouncer,
   DATABASE_POOLER=transaction);
4. drives GET /track/v2/click on each with wrk, alternating app by app at each
   concurrency level for BENCH_ROUNDS rounds, and counts the CPU that gunicorn, the
   PostgreSQL backends of this database and PgBouncer spent per click (from /proc);
5. checks that the clicks stored equal the 302s read (at most one in flight per
   connection more) and writes the "## PgBouncer in transaction mode" section of
   bench/RESULTS.md.

Run it under the benchmark lock:
`flock /tmp/retrack-bench.lock .venv/bin/python bench/pgbouncer.py`.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("BENCH_DATABASE", "retrack_bench_pgbouncer")
os.environ.setdefault("BENCH_PORT", "18171")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402

import clicks as bench  # noqa: E402  (bench/clicks.py, configured by the variables above)

POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "4"))
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
                url = f"postgres://postgres@127.0.0.1:{BOUNCER_PORT}/{bench.DATABASE}"
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


def backends() -> list[int]:
    with psycopg.connect(f"{bench.PG_SERVER}/postgres") as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (bench.DATABASE,),
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


def measured_run(app: dict, ids: dict, connections: int, round_number: int, bouncer_pid: int):
    # The processes to count: this app's workers, every backend of the bench database
    # (only the app under load uses it meanwhile) and PgBouncer.
    groups = {
        "app": children(app["process"].pid),
        "postgres": backends(),
        "pgbouncer": [bouncer_pid],
    }
    before = cpu_seconds(groups)
    result = bench.load_level(app["key"], app["port"], ids, connections, round_number)
    after = cpu_seconds(groups)
    result["cpu_ms"] = {
        name: (after[name] - before[name]) * 1000 / max(result["requests"], 1) for name in groups
    }
    return result


def main() -> int:
    bench.ensure_wrk()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = " ".join(f"{value:.2f}" for value in os.getloadavg())
    bench.say(f"Preparing {bench.DATABASE}...")
    ids = bench.prepare_database()
    direct = bench.django_environment()
    through = {
        **direct,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{BOUNCER_PORT}/{bench.DATABASE}",
        "DATABASE_POOLER": "transaction",
    }
    apps = [
        {"name": "direct", "key": "direct", "environment": direct},
        {"name": "PgBouncer", "key": "pgbouncer", "environment": through},
    ]
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        bouncer = stack.enter_context(pgbouncer(Path(folder)))
        for offset, app in enumerate(apps):
            app["port"], app["runs"] = bench.PORT + offset, []
            app["process"] = stack.enter_context(
                bench.serving("retrack.wsgi", app["port"], app["environment"])
            )
        for app in apps:
            bench.run_wrk(app["port"], bench.click_path(ids, "warmup"), 8, bench.WARMUP)
        for round_number in range(1, bench.ROUNDS + 1):
            for connections in bench.CONCURRENCY:
                for app in apps:
                    app["runs"].append(
                        measured_run(app, ids, connections, round_number, bouncer.pid)
                    )
    load_after = " ".join(f"{value:.2f}" for value in os.getloadavg())
    section = report(apps, date, load_before, load_after)
    write_section(section)
    print(section)
    return 0


def report(apps: list[dict], date: str, load_before: str, load_after: str) -> str:
    direct, through = apps
    lines = [
        SECTION,
        "",
        f"`flock /tmp/retrack-bench.lock .venv/bin/python bench/pgbouncer.py` "
        f"(`make bench-pgbouncer`), run {date}: Retrack served twice side by side under "
        f"gunicorn `{bench.describe_gunicorn()}`, straight to PostgreSQL (`direct`) and "
        f"through PgBouncer {pgbouncer_version()} in transaction mode with "
        f"{POOL_SIZE} server connections (`DATABASE_POOLER=transaction`), PgBouncer, "
        "PostgreSQL, both apps and wrk on this one 2-core machine. wrk on the tracking link, "
        f"{bench.DURATION} s per run, the two alternating at each level, {bench.ROUNDS} "
        f"round(s); medians over the rounds. Load average before: {load_before}; "
        f"after: {load_after}.",
        "",
        "| connections | app | clicks/s (median of rounds) | p50 | p99 | "
        "CPU per click: gunicorn / PostgreSQL / PgBouncer |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for level in bench.CONCURRENCY:
        for app in apps:
            runs = [run for run in app["runs"] if run["connections"] == level]
            cpu = {
                name: statistics.median(run["cpu_ms"][name] for run in runs)
                for name in ("app", "postgres", "pgbouncer")
            }
            lines.append(
                f"| {level} | {app['name']} "
                f"| {statistics.median(run['clicks_per_second'] for run in runs):.0f} "
                f"| {statistics.median(run['p50_us'] for run in runs) / 1000:.1f} ms "
                f"| {statistics.median(run['p99_us'] for run in runs) / 1000:.1f} ms "
                f"| {cpu['app']:.2f} / {cpu['postgres']:.2f} / {cpu['pgbouncer']:.2f} ms |"
            )
    ratios = [
        b["clicks_per_second"] / a["clicks_per_second"]
        for a, b in zip(direct["runs"], through["runs"], strict=True)
    ]
    exact = all(
        0 <= run["stored"] - run["redirects"] <= run["connections"]
        for app in apps
        for run in app["runs"]
    )
    lines += [
        "",
        "Through PgBouncer against direct, run by run: median "
        f"**{statistics.median(ratios):.0%}** (runs {min(ratios):.0%} to {max(ratios):.0%}). "
        "Every run stored each 302's click (stored − 302s read between 0 and the "
        f"connections in flight): **{'yes' if exact else 'NO'}**.",
    ]
    return "\n".join(lines) + "\n"


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
