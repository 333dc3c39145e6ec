"""Prometheus metrics: what Retrack counts, and /metrics, which shows them.

Each kind of event has one small function to count it (`count_click`,
`count_report`, `count_conversion`, `count_webhook_delivery`,
`count_replica_connect_failure`, `observe_request`), so the
code that knows an outcome counts it with one call and never touches prometheus-client.

Under gunicorn each worker is its own process: with `PROMETHEUS_MULTIPROC_DIR` set
(gunicorn.conf.py sets and empties it at start) every process writes its values to files
there and /metrics adds them up, so a scrape sees the whole server, not one worker.
Without it (runserver, tests) the values live in the process.

Counting is batched. Writing a value to prometheus-client (a lock and a write to its
memory-mapped file per value, three for a click's counter and latency) cost a click
about 5 % of its CPU, so each process adds its counts up in memory and a background
thread hands them over once a second (`flush`): a count costs a dictionary update. A
scrape flushes its own process first; other workers' last second shows at the next one.
"""

import atexit
import hmac
import logging
import os
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from retrack.lib.answers import Answer

CLICKS = Counter(
    "retrack_clicks",
    "Tracking link requests by outcome (redirected, bot, refused, unavailable, error) "
    "and HTTP status.",
    ["outcome", "status"],
)
REPORTS = Counter(
    "retrack_reports",
    "Conversion reports by source (api, tag) and outcome (created, replayed, recorded, "
    "refused, throttled, or the store API's error code).",
    ["source", "outcome"],
)
CONVERSIONS = Counter(
    "retrack_conversions",
    "Conversions entering a status: pending when created, approved, rejected.",
    ["status"],
)
WEBHOOK_DELIVERIES = Counter(
    "retrack_webhook_deliveries",
    "Webhook delivery attempts to partners by outcome.",
    ["outcome"],
)
REPLICA_CONNECT_FAILURES = Counter(
    "retrack_replica_connect_failures",
    "Failed attempts to connect to the read replica; after each the reads that may lag go "
    "to the primary for RETRACK_REPLICA_RETRY_SECONDS.",
)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUEST_DURATION = Histogram(
    "retrack_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint (the tracking link, a probe, or the "
    "URL pattern) and status.",
    ["endpoint", "status"],
    buckets=LATENCY_BUCKETS,
)
FLUSH_SECONDS = 1.0

logger = logging.getLogger(__name__)

# A labelled child per label values, kept: `labels()` takes a lock and builds a key on
# every call.
_children: dict[tuple, Any] = {}


class _Pending:
    """This process's counts not yet handed to prometheus-client."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.flush_lock = threading.Lock()
        self.counts: defaultdict[tuple, float] = defaultdict(float)
        # (endpoint, status) -> [sum of seconds, count per bucket, +Inf last]
        self.latencies: dict[tuple[str, str], list] = {}
        self.flusher_pid = 0


_pending = _Pending()


def _child(metric: Counter | Histogram, *values: str) -> Any:
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        # A metric without labels is its own (only) child.
        child = _children[key] = metric.labels(*values) if values else metric
    return child


def count_click(status: int, is_bot: bool = False) -> None:
    """Count one answer of the tracking link."""
    if status == 302:
        outcome = "bot" if is_bot else "redirected"
    elif status == 503:
        outcome = "unavailable"
    elif status >= 500:
        outcome = "error"
    else:
        outcome = "refused"
    _count(CLICKS, outcome, str(status))


def count_report(source: str, outcome: str) -> None:
    """Count one conversion report from the store API (`api`) or the browser tag (`tag`)."""
    _count(REPORTS, source, outcome)


def count_conversion(status: str) -> None:
    """Count a conversion entering `status` (call it once the change is committed)."""
    _count(CONVERSIONS, status)


def count_webhook_delivery(outcome: str) -> None:
    """Count one webhook delivery attempt, e.g. `delivered`, `failed`, `gave_up`."""
    _count(WEBHOOK_DELIVERIES, outcome)


def count_replica_connect_failure() -> None:
    """Count one failed attempt to connect to the read replica."""
    _count(REPLICA_CONNECT_FAILURES)


def observe_request(endpoint: str, status: int, seconds: float) -> None:
    """Record how long answering a request took."""
    bucket = bisect_left(LATENCY_BUCKETS, seconds)  # the first bound >= seconds, as Prometheus
    key = (endpoint, str(status))
    with _pending.lock:
        entry = _pending.latencies.get(key)
        if entry is None:
            entry = _pending.latencies[key] = [0.0, [0] * (len(LATENCY_BUCKETS) + 1)]
        entry[0] += seconds
        entry[1][bucket] += 1
    _ensure_flusher()


def _count(metric: Counter, *values: str) -> None:
    with _pending.lock:
        _pending.counts[(metric, values)] += 1
    _ensure_flusher()


def _ensure_flusher() -> None:
    # One per process; a process forked from one that had it starts its own.
    if _pending.flusher_pid == os.getpid():
        return
    with _pending.lock:
        if _pending.flusher_pid == os.getpid():
            return
        _pending.flusher_pid = os.getpid()
    threading.Thread(target=_flush_forever, name="retrack-metrics", daemon=True).start()
    atexit.register(flush)


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        try:
            flush()
        except Exception:
            logger.exception("Metrics could not be written; they will be tried again")


def flush() -> None:
    """Hand this process's pending counts to prometheus-client (and its files)."""
    # One flush at a time: a scrape's flush waits for the background thread's to finish
    # writing what it took, or the scrape would miss those counts.
    with _pending.flush_lock:
        _flush()


def _flush() -> None:
    with _pending.lock:
        counts, _pending.counts = _pending.counts, defaultdict(float)
        latencies, _pending.latencies = _pending.latencies, {}
    for (metric, values), amount in counts.items():
        _child(metric, *values).inc(amount)
    for values, (total, buckets) in latencies.items():
        histogram = _child(REQUEST_DURATION, *values)
        # What `observe` does once per value, once per batch: the pinned prometheus-client
        # keeps a histogram as a sum and one count per bucket (`_sum`, `_buckets`).
        histogram._sum.inc(total)
        for bucket, count in enumerate(buckets):
            if count:
                histogram._buckets[bucket].inc(count)


def exposition() -> bytes:
    """Every metric in Prometheus's text format, added up over the server's processes."""
    flush()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def answer_metrics(environ: Mapping[str, Any]) -> Answer:
    """/metrics: 404 unless RETRACK_METRICS_TOKEN is set; then only with that bearer token."""
    token = settings.RETRACK_METRICS_TOKEN
    plain = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")]
    if not token:
        return Answer(404, plain, b"Not found.\n")
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return Answer(405, [*plain, ("Allow", "GET, HEAD")], b"Method not allowed.\n")
    sent = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = sent.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credentials.strip().encode(), token.encode()
    ):
        challenge = ("WWW-Authenticate", 'Bearer realm="metrics"')
        return Answer(401, [*plain, challenge], b"Send Authorization: Bearer <token>.\n")
    return Answer(
        200, [("Content-Type", CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")], exposition()
    )
