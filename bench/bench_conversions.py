"""Benchmark of the store API's create path: `make bench-conversions`.

On its own PostgreSQL database (retrack_bench_conversions, dropped and made afresh) and
gunicorn, it:

1. seeds a store with a program, three events, a partner, a store token and many clicks;
2. runs wrk (bench/conversions.lua) creating transactions with three product lines each,
   a new order number per request, at several concurrency levels: transactions/s and
   p50/p95/p99;
3. replays stored payloads with wrk (the idempotent 200 path);
4. sends transactions at a fixed 50/s with an open-loop paced generator (below): each
   request is due at t0 + i/50 s and its latency is measured from when it was due, so a
   slow answer is not hidden by the next request waiting for it;
5. checks that the stored conversions equal the 201 answers, with one history entry each;
6. reports, for each wrk run, the CPU time the gunicorn and the PostgreSQL processes spent
   per request (from /proc), which tells where a transaction's cost lies;
7. runs the same create load against the baseline (bench/conversions_baseline.py: the same
   reads and writes with bare psycopg, no framework), served by gunicorn with the same
   settings on the same port, and reports Retrack's throughput and CPU against it.

It prints a Markdown section for bench/RESULTS.md. Environment: BENCH_PORT (18201),
BENCH_WORKERS (gunicorn workers, 2), BENCH_THREADS (threads per worker, 4: gthread),
BENCH_SECONDS (per wrk run, 15), BENCH_CONCURRENCY ("4 16 64"), BENCH_CLICKS (20000),
BENCH_PACED_SECONDS (30), BENCH_DATABASE (retrack_bench_conversions), BENCH_BASELINE ("0"
skips the baseline).
"""

import datetime
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = os.environ.get("BENCH_DATABASE", "retrack_bench_conversions")
PORT = int(os.environ.get("BENCH_PORT", "18201"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
CONCURRENCY = [int(level) for level in os.environ.get("BENCH_CONCURRENCY", "4 16 64").split()]
CLICKS = int(os.environ.get("BENCH_CLICKS", "20000"))
PACED_RATE = 50
PACED_SECONDS = int(os.environ.get("BENCH_PACED_SECONDS", "30"))
BASELINE = os.environ.get("BENCH_BASELINE", "1") != "0"

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
sys.path.insert(0, str(ROOT))


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {DATABASE}")


def seed() -> dict:
    """The store, program, events, partner, token and clicks the load needs."""
    import django

    django.setup()
    from django.core.management import call_command

    from clicks.models import Click
    from partners.models import Partner
    from partners.services import admit_partner
    from stores.models import Store
    from stores.services import issue_store_token, save_event, save_program

    call_command("migrate", verbosity=0)
    store = Store.objects.create(name="Bench Store")
    program = save_program(
        store,
        name="Bench Store SE",
        currency="SEK",
        landing_url="https://www.bench-store.example/",
        allowed_domains=["bench-store.example"],
        attribution_days=30,
        validation_days=45,
    )
    events = [
        save_event(
            program, name="Shoes", kind="transaction", percent=Decimal("8"), fixed_amount=None
        ),
        save_event(
            program, name="Socks", kind="transaction", percent=Decimal("12.5"), fixed_amount=None
        ),
        save_event(program, name="Jackets", kind="transaction", percent=None, fixed_amount=1500),
    ]
    partner = Partner.objects.create(name="Refunder SE")
    admit_partner(partner, program)
    _, token = issue_store_token(store, "bench")
    clicks = Click.objects.bulk_create(
        [Click(partner=partner, program=program, ref=str(n)) for n in range(CLICKS)],
        batch_size=5000,
    )
    return {
        "token": token,
        "events": [str(event.uuid) for event in events],
        "clicks": [str(click.uuid) for click in clicks],
    }


def write_lua_data(path: Path, data: dict, mode: str, run: str, replay=()) -> None:
    def table(items) -> str:
        return "{" + ",".join(json.dumps(item) for item in items) + "}"

    pairs = "{" + ",".join(f"{{{json.dumps(o)},{json.dumps(c)}}}" for o, c in replay) + "}"
    path.write_text(
        "return {"
        f"token={json.dumps(data['token'])},"
        f"events={table(data['events'])},"
        f"clicks={table(data['clicks'])},"
        f"mode={json.dumps(mode)},run={json.dumps(run)},replay={pairs}"
        "}\n"
    )


# The gunicorn master's pid: it and its children (the workers) are the bench's app CPU.
SERVER_PIDS: set[int] = set()


def start_server(application: str = "retrack.wsgi") -> subprocess.Popen:
    """gunicorn serving `application` on PORT with the bench's workers and threads."""
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            application,
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        # The bench serves no static files; whitenoise's warning about it is noise here.
        env={**os.environ, "PYTHONWARNINGS": "ignore:No directory at"},
    )
    SERVER_PIDS.add(server.pid)
    return server


def wait_for_server() -> None:
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            connection.request("GET", "/api/v2/transactions")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by this bench's gunicorn and PostgreSQL processes (Linux /proc).

    Only this bench's gunicorn (the master and its workers) and the PostgreSQL backends
    connected to DATABASE count, so other work on a shared machine (other databases' test
    runs, another gunicorn) does not. Both keep their processes for the whole bench
    (workers, and one backend per persistent connection), so the difference over a run is
    that run's CPU. PostgreSQL's shared background processes (WAL writer, checkpointer)
    are left out for the same reason.
    """
    ticks = {"app": 0, "postgres": 0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(pid) in SERVER_PIDS or int(fields[1]) in SERVER_PIDS:
            group = "app"
        elif name == "postgres" and f" {DATABASE} " in command:
            group = "postgres"
        else:
            continue
        ticks[group] += int(fields[11]) + int(fields[12])  # utime + stime
    hertz = os.sysconf("SC_CLK_TCK")
    return {group: count / hertz for group, count in ticks.items()}


def run_wrk(data_file: Path, connections: int, seconds: int) -> dict:
    threads = min(2, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "conversions.lua"),
        f"http://127.0.0.1:{PORT}",
    ]
    cpu_before = cpu_seconds()
    result = subprocess.run(
        command,
        env={**os.environ, "BENCH_DATA": str(data_file)},
        capture_output=True,
        text=True,
        check=True,
    )
    cpu_after = cpu_seconds()
    if result.stderr.strip():
        print(result.stderr.strip(), file=sys.stderr)
    line = next(row for row in result.stdout.splitlines() if row.startswith("RESULT "))
    figures = json.loads(line[len("RESULT ") :])
    figures["rate"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["connections"] = connections
    for group in cpu_before:
        used = cpu_after[group] - cpu_before[group]
        figures[f"{group}_cpu_ms"] = 1000 * used / max(figures["requests"], 1)
    return figures


def paced_run(data: dict, run: str, rate: int, seconds: int) -> dict:
    """Open-loop load at `rate` requests/s; latency counted from each request's due time."""
    total = rate * seconds
    start = time.perf_counter() + 0.5
    lock = threading.Lock()
    next_index = [0]
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def body(index: int) -> bytes:
        events = data["events"]
        lines = [
            (events[0], "SKU-1", "Running shoe", 1, 12500, 2500),
            (events[1], "SKU-2", "Sock", 2, 4900, 980),
            (events[2], "SKU-3", "Jacket", 1, 19900, 3980),
        ]
        payload = {
            "event": events[0],
            "click": data["clicks"][index % len(data["clicks"])],
            "orderNumber": f"{run}-{index}",
            "orderSum": 42200,
            "vatSum": 8440,
            "currency": "SEK",
            "products": [
                dict(
                    zip(
                        ("event", "reference", "name", "quantity", "price", "vat"),
                        line,
                        strict=True,
                    )
                )
                for line in lines
            ],
        }
        return json.dumps(payload).encode()

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        headers = {
            "Authorization": f"Bearer {data['token']}",
            "Content-Type": "application/json",
        }
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= total:
                return
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            payload = body(index)
            try:
                connection.request("POST", "/api/v2/transactions", payload, headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
                connection.request("POST", "/api/v2/transactions", payload, headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            elapsed = time.perf_counter() - due
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    workers = [threading.Thread(target=worker) for _ in range(16)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "requests": total,
        "rate": rate,
        "created": statuses.get(201, 0),
        "statuses": statuses,
        "p50": cuts[49] * 1e6,
        "p95": cuts[94] * 1e6,
        "p99": cuts[98] * 1e6,
        "max": max(latencies) * 1e6,
    }


def stored_counts(run_prefix: str) -> tuple[int, int]:
    from conversions.models import Conversion, ConversionChange

    conversions = Conversion.objects.filter(order_number__startswith=run_prefix).count()
    created = ConversionChange.objects.filter(
        action="created", conversion__order_number__startswith=run_prefix
    ).count()
    return conversions, created


def replay_pairs(run_prefix: str, limit: int = 20000) -> list[tuple[str, str]]:
    from conversions.models import Conversion

    rows = Conversion.objects.filter(order_number__startswith=run_prefix).values_list(
        "order_number", "click_id"
    )[:limit]
    return [(order, str(click)) for order, click in rows]


def cpu_split(figures: dict) -> str:
    return f"{figures['app_cpu_ms']:.1f} / {figures['postgres_cpu_ms']:.1f}"


def milliseconds(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f}"


def main() -> None:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    recreate_database()
    data = seed()
    run = uuid.uuid4().hex[:8]
    work = Path(tempfile.mkdtemp(prefix="retrack-bench-conversions-"))
    try:
        warm, runs, replay, paced = run_retrack(data, run, work)
        baseline = run_baseline(data, f"b{run}", work) if BASELINE else None
    finally:
        shutil.rmtree(work, ignore_errors=True)

    wrk_201 = warm["created"] + sum(r["created"] for r in runs)
    stored, histories = stored_counts(run)
    paced_stored, _ = stored_counts(f"{run}-paced")
    # wrk stops with up to one request per connection in flight: the server finishes and
    # stores it, but wrk never reads its 201. The paced generator waits for every answer.
    in_flight = stored - paced_stored - wrk_201
    in_flight_bound = 4 + sum(CONCURRENCY)
    print_report(runs, replay, paced, wrk_201, stored, histories, paced_stored, in_flight)
    if baseline is not None:
        print_baseline(runs, baseline)
    if (
        paced_stored != paced["created"]
        or not 0 <= in_flight <= in_flight_bound
        or histories != stored
        or replay["created"]
        or (baseline is not None and not baseline["consistent"])
    ):
        raise SystemExit("MISMATCH: stored conversions differ from the 201 answers")


def create_runs(data: dict, run: str, create_file: Path) -> tuple[dict, list[dict]]:
    """A 5 s warm-up at 4 connections, then a create run at each level, on the server up."""
    write_lua_data(create_file, data, "create", f"{run}-warm")
    warm = run_wrk(create_file, 4, 5)
    runs = []
    for connections in CONCURRENCY:
        write_lua_data(create_file, data, "create", f"{run}-c{connections}")
        runs.append(run_wrk(create_file, connections, SECONDS))
    return warm, runs


def run_retrack(data: dict, run: str, work: Path) -> tuple[dict, list[dict], dict, dict]:
    """Retrack's runs: warm-up, create at each level, replay, and the paced run."""
    server = start_server()
    try:
        wait_for_server()
        warm, runs = create_runs(data, run, work / "create.lua")
        replay_file = work / "replay.lua"
        write_lua_data(replay_file, data, "replay", run, replay_pairs(f"{run}-c"))
        replay = run_wrk(replay_file, 16, SECONDS)
        paced = paced_run(data, f"{run}-paced", PACED_RATE, PACED_SECONDS)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return warm, runs, replay, paced


def run_baseline(data: dict, run: str, work: Path) -> dict:
    """The same create load on the bare-psycopg baseline, at the same concurrency levels."""
    server = start_server("bench.conversions_baseline:application")
    try:
        wait_for_server()
        warm, runs = create_runs(data, run, work / "baseline.lua")
    finally:
        server.terminate()
        server.wait(timeout=30)
    answered = warm["created"] + sum(r["created"] for r in runs)
    stored, histories = stored_counts(run)
    in_flight = stored - answered
    return {
        "runs": runs,
        "stored": stored,
        "in_flight": in_flight,
        "consistent": histories == stored and 0 <= in_flight <= 4 + sum(CONCURRENCY),
    }


def print_baseline(runs: list[dict], baseline: dict) -> None:
    print(
        "\nBaseline (bench/conversions_baseline.py: the same reads and writes with bare "
        "psycopg, no framework), same gunicorn settings, right after:\n"
    )
    print(
        "| connections | baseline tx/s | Retrack tx/s | Retrack / baseline | "
        "CPU ms per request, gunicorn: baseline / Retrack | PostgreSQL: baseline / Retrack |"
    )
    print("|---|---|---|---|---|---|")
    for ours, theirs in zip(runs, baseline["runs"], strict=True):
        print(
            f"| {ours['connections']} | {theirs['rate']:.0f} | {ours['rate']:.0f} | "
            f"{ours['rate'] / theirs['rate']:.2f} | "
            f"{theirs['app_cpu_ms']:.1f} / {ours['app_cpu_ms']:.1f} | "
            f"{theirs['postgres_cpu_ms']:.1f} / {ours['postgres_cpu_ms']:.1f} |"
        )
    print(
        f"\nBaseline check: {baseline['stored']} conversions stored, "
        f"{baseline['in_flight']} of them in flight when wrk stopped, each with its history entry."
    )


def print_report(runs, replay, paced, wrk_201, stored, histories, paced_stored, in_flight):
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"\n### Run of {today}\n")
    print(
        f"Machine: {os.cpu_count()} cores (nproc), PostgreSQL and gunicorn on the same machine; "
        f"gunicorn {WORKERS} workers × {THREADS} thread(s). Command: `make bench-conversions`.\n"
    )
    print(
        "| load | transactions/s | p50 ms | p95 ms | p99 ms | max ms | answers "
        "| CPU ms per request: gunicorn / PostgreSQL |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(
            f"| create, wrk {r['connections']} connections, {SECONDS} s | {r['rate']:.0f} | "
            f"{milliseconds(r['p50'])} | {milliseconds(r['p95'])} | {milliseconds(r['p99'])} | "
            f"{milliseconds(r['max'])} | {r['created']}×201, {r['refused']} other, "
            f"{r['socket_errors']} socket errors | {cpu_split(r)} |"
        )
    print(
        f"| replay (idempotent 200), wrk 16 connections, {SECONDS} s | {replay['rate']:.0f} | "
        f"{milliseconds(replay['p50'])} | {milliseconds(replay['p95'])} | "
        f"{milliseconds(replay['p99'])} | {milliseconds(replay['max'])} | "
        f"{replay['replayed']}×200, {replay['created']}×201, {replay['refused']} other "
        f"| {cpu_split(replay)} |"
    )
    print(
        f"| create, paced at {paced['rate']}/s for {PACED_SECONDS} s (open loop) | "
        f"{paced['rate']} | {milliseconds(paced['p50'])} | {milliseconds(paced['p95'])} | "
        f"{milliseconds(paced['p99'])} | {milliseconds(paced['max'])} | {paced['statuses']} "
        "| – |"
    )
    print(
        f"\nCheck: {stored} conversions stored, each with one 'created' history entry "
        f"({histories}); paced run: {paced['created']} answers 201 = {paced_stored} stored; "
        f"wrk runs: {wrk_201} answers 201 + {in_flight} stored while in flight when wrk "
        f"stopped (at most one per connection); replay: {replay['created']} new rows."
    )


if __name__ == "__main__":
    main()
