"""Benchmark of partner webhooks: `make bench-webhooks` (run under the shared bench lock).

On its own PostgreSQL database (retrack_bench_webhooks, made afresh), gunicorn serving the
store API, a Celery worker on RabbitMQ (a queue of its own) and a webhook receiver on
127.0.0.1 in this process, it measures:

1. commit → delivery: transactions sent to the store API at a fixed 50/s (open loop, as in
   bench_conversions.py), each announced to one endpoint; the delay from the change's
   timestamp (taken just before its commit) to the receiver getting the POST, p50/p95/max;
2. the store API's throughput with wrk, in rounds within the same run: webhooks off (the
   partner has no active endpoint); on with the worker stopped (the API path's own cost);
   on with the worker delivering on the same cores;
3. deliveries per second of one worker: the backlog left by each "worker stopped" run,
   drained by one worker process (prefork, `--concurrency` BENCH_WORKER_CONCURRENCY).

Every delivery is checked to have reached the receiver. Prints a Markdown section for
bench/RESULTS.md. Environment: BENCH_PORT (18211), BENCH_SECONDS (per wrk run, 15),
BENCH_PACED_SECONDS (30), BENCH_WORKER_CONCURRENCY (8), BENCH_ROUNDS (2),
CELERY_BROKER_URL (RabbitMQ at 127.0.0.1:5672).
"""

import datetime
import http.server
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_conversions as base  # noqa: E402 - its helpers: seed, wrk, paced load

DATABASE = "retrack_bench_webhooks"
base.DATABASE = DATABASE
base.PORT = PORT = int(os.environ.get("BENCH_PORT", "18211"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
PACED_SECONDS = int(os.environ.get("BENCH_PACED_SECONDS", "30"))
WORKER_CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "8"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
WORKER_POOL = os.environ.get("BENCH_WORKER_POOL", "prefork")
BROKER_URL = os.environ.get("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
QUEUE = f"retrack-bench-{uuid.uuid4().hex[:8]}"
os.environ.update(
    {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "RETRACK_WEBHOOK_ALLOW_PRIVATE": "true",
    }
)


class Receiver:
    """Records when each webhook-id arrived; answers 204."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        lock = threading.Lock()
        arrivals = self.arrivals

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers["content-length"]))
                now = time.time()
                with lock:
                    arrivals.setdefault(self.headers["webhook-id"], []).append(now)
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                """Silent: the run's own output is what matters, not one line per request."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def start_worker(log: Path) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "retrack",
        "worker",
        "--beat",
        f"--schedule={log.with_suffix('.schedule')}",
        f"--concurrency={WORKER_CONCURRENCY}",
        f"--pool={WORKER_POOL}",
        f"--hostname={QUEUE}@%h",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=WARNING",
    ]
    with log.open("ab") as output:
        return subprocess.Popen(
            command, cwd=base.ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_worker(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(timeout=60)


def worker_cpu_seconds() -> float:
    """CPU seconds used so far by this bench's worker processes (Linux /proc)."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if QUEUE.encode() in command:
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_until_delivered(timeout: float = 300) -> None:
    from conversions.models import ConversionChange
    from partners.models import DeliveryStatus, WebhookDelivery

    deadline = time.monotonic() + timeout
    # A change gets its deliveries when the sequencer numbers it (a worker's run).
    while (
        ConversionChange.objects.filter(sequence__isnull=True).exists()
        or WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
    ):
        if time.monotonic() > deadline:
            raise SystemExit("deliveries still pending after the timeout")
        time.sleep(0.2)


def delivery_delays(receiver: Receiver, since_pk: int) -> list[float]:
    """Seconds from each change's timestamp to its first arrival at the receiver."""
    from partners.models import WebhookDelivery

    delays = []
    for event_id, body in WebhookDelivery.objects.filter(pk__gt=since_pk).values_list(
        "event_id", "body"
    ):
        changed_at = datetime.datetime.fromisoformat(json.loads(body)["timestamp"]).timestamp()
        delays.append(receiver.arrivals[str(event_id)][0] - changed_at)
    return delays


def last_delivery_pk() -> int:
    from partners.models import WebhookDelivery

    return WebhookDelivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def wrk_figures(data: dict, create_file: Path, label: str) -> dict:
    base.write_lua_data(create_file, data, "create", label)
    return base.run_wrk(create_file, 16, SECONDS)


def set_endpoint_active(endpoint, active: bool) -> None:
    from partners.models import WebhookEndpoint

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=active)


def main() -> None:
    base.recreate_database()
    data = base.seed()
    from conversions.models import ConversionChange
    from partners.models import Partner, WebhookDelivery
    from partners.webhooks.services import register_webhook_endpoint

    receiver = Receiver()
    endpoint, _ = register_webhook_endpoint(Partner.objects.get(), url=receiver.url)
    run = uuid.uuid4().hex[:8]
    work = Path(tempfile.mkdtemp(prefix="retrack-bench-webhooks-"))
    server = base.start_server()
    worker = start_worker(work / "worker.log")
    try:
        base.wait_for_server()
        create_file = work / "create.lua"
        base.write_lua_data(create_file, data, "create", f"{run}-warm")
        base.run_wrk(create_file, 4, 5)
        wait_until_delivered()

        # 1. commit → delivery at 50 conversions/s.
        before = last_delivery_pk()
        paced = base.paced_run(data, f"{run}-paced", 50, PACED_SECONDS)
        wait_until_delivered()
        delays = delivery_delays(receiver, before)

        # 2 and 3. The store API with webhooks off, on with the worker stopped (the API
        # path's own cost: the outbox row and the publish), and on with the worker
        # delivering on the same cores; each "on, worker stopped" run leaves a backlog
        # that a freshly started worker then drains (deliveries/s of one worker).
        throughput = {"off": [], "api": [], "worker": []}
        create_cpu = []
        drains = []
        for round_number in range(ROUNDS):
            set_endpoint_active(endpoint, False)
            off = wrk_figures(data, create_file, f"{run}-off{round_number}")
            throughput["off"].append(off["rate"])
            create_cpu.append((off["app_cpu_ms"], off["postgres_cpu_ms"]))
            set_endpoint_active(endpoint, True)

            stop_worker(worker)
            before = last_delivery_pk()
            api = wrk_figures(data, create_file, f"{run}-api{round_number}")
            throughput["api"].append(api["rate"])
            # Left unnumbered while the worker (and its beat) stood still: each is one
            # delivery once a run numbers it.
            backlog = ConversionChange.objects.filter(sequence__isnull=True).count()
            started = time.time()
            worker = start_worker(work / "worker.log")
            # CPU from the first delivery on, leaving out the worker's start.
            received_before = len(receiver.arrivals)
            while len(receiver.arrivals) == received_before:
                time.sleep(0.02)
            received_from = len(receiver.arrivals)
            cpu_from = worker_cpu_seconds(), base.cpu_seconds()["postgres"]
            wait_until_delivered()
            counted = len(receiver.arrivals) - received_from
            worker_cpu = (worker_cpu_seconds() - cpu_from[0]) / counted
            postgres_cpu = (base.cpu_seconds()["postgres"] - cpu_from[1]) / counted
            arrivals = [
                receiver.arrivals[str(event_id)][0]
                for event_id in WebhookDelivery.objects.filter(pk__gt=before).values_list(
                    "event_id", flat=True
                )
            ]
            drain = max(arrivals) - min(arrivals)
            drains.append((backlog, drain, min(arrivals) - started, worker_cpu, postgres_cpu))

            on = wrk_figures(data, create_file, f"{run}-on{round_number}")
            throughput["worker"].append(on["rate"])
            wait_until_delivered()
    finally:
        stop_worker(worker)
        server.terminate()
        server.wait(timeout=30)

    delivered = WebhookDelivery.objects.count()
    missing = [
        event_id
        for event_id in WebhookDelivery.objects.values_list("event_id", flat=True)
        if str(event_id) not in receiver.arrivals
    ]
    duplicates = sum(len(times) - 1 for times in receiver.arrivals.values())
    report(paced, delays, throughput, create_cpu, drains, delivered, missing, duplicates)
    if missing:
        raise SystemExit(f"MISSING: {len(missing)} deliveries never reached the receiver")


def report(paced, delays, throughput, create_cpu, drains, delivered, missing, duplicates):
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cuts = statistics.quantiles(delays, n=100, method="inclusive")
    off = statistics.mean(throughput["off"])
    print(f"\n### Run of {today}\n")
    print(
        f"Machine: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end), "
        f"PostgreSQL, RabbitMQ, gunicorn ({base.WORKERS} workers × {base.THREADS} threads), "
        f"one Celery worker ({WORKER_POOL}, concurrency {WORKER_CONCURRENCY}) and the receiver on "
        "the same machine. Command: `make bench-webhooks`.\n"
    )
    print("| measure | figure |")
    print("|---|---|")
    print(
        f"| commit → delivery, {paced['created']} transactions at {paced['rate']}/s for "
        f"{PACED_SECONDS} s | p50 {cuts[49]:.3f} s, p95 {cuts[94]:.3f} s, "
        f"max {max(delays):.3f} s (goal: p95 ≤ 2 s) |"
    )
    labels = {
        "off": f"store API create (wrk, 16 connections, {SECONDS} s each), webhooks off",
        "api": "… webhooks on, worker stopped (the API path: outbox row and publish)",
        "worker": "… webhooks on, the worker delivering on the same cores",
    }
    for mode, label in labels.items():
        rates = throughput[mode]
        mean = statistics.mean(rates)
        change = "" if mode == "off" else f", {100 * (mean - off) / off:+.1f} % against off"
        figures = ", ".join(f"{rate:.0f}" for rate in rates)
        print(f"| {label} | {figures} transactions/s (mean {mean:.0f}{change}) |")
    for backlog, drain, startup, worker_cpu, postgres_cpu in drains:
        print(
            f"| one worker draining {backlog} queued deliveries | {backlog / drain:.0f} "
            f"deliveries/s ({drain:.1f} s from first to last; the first {startup:.1f} s after "
            f"the worker started); CPU per delivery: worker {1000 * worker_cpu:.1f} ms, "
            f"PostgreSQL {1000 * postgres_cpu:.1f} ms |"
        )
    app_ms = statistics.mean(app for app, _ in create_cpu)
    postgres_ms = statistics.mean(postgres for _, postgres in create_cpu)
    print(
        f"| CPU per store API create (webhooks off) | gunicorn {app_ms:.1f} ms, "
        f"PostgreSQL {postgres_ms:.1f} ms |"
    )
    print(
        f"\nCheck: {delivered} deliveries, {len(missing)} never received, {duplicates} "
        "received twice (at least once: a duplicate is allowed, a loss is not)."
    )


if __name__ == "__main__":
    main()
