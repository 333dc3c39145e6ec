"""Gunicorn's settings for Retrack: `gunicorn retrack.wsgi` in this folder reads them.

Every value can be changed from the environment (or on gunicorn's command line, which
wins over this file):

- `GUNICORN_BIND` (`0.0.0.0:8000`), `WEB_CONCURRENCY` (workers: 2 per CPU core),
  `GUNICORN_THREADS` (2 per worker), `GUNICORN_TIMEOUT` (30 s: a worker silent that long
  is restarted), `GUNICORN_GRACEFUL_TIMEOUT` (30 s to finish requests on a restart),
  `GUNICORN_KEEPALIVE` (5 s: behind a load balancer keep it above the balancer's idle
  timeout for its backends, or below it never),
- `GUNICORN_ACCESS_LOG`: `-` for standard output, a file path, or empty (the default:
  the proxy in front usually keeps an access log already). Lines carry the request id
  and never the client's address; with `LOG_FORMAT=json` they are JSON objects,
- `PROMETHEUS_MULTIPROC_DIR`: where the workers keep their metrics for /metrics to add
  up (emptied at start); without it a fresh temporary folder is used.

The workers are threaded (`gthread`): a click waits on its INSERT's commit, and threads
let a worker answer others meanwhile. On 2 cores, 4 workers × 2 threads is what
bench/clicks.py measures. Each thread holds one PostgreSQL connection: keep
workers × threads × servers below PostgreSQL's `max_connections`.
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Headers beyond these sizes are refused before Retrack sees them.
limit_request_line = 8190
limit_request_fields = 100

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = (
    '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s "%(a)s"'
)
if os.environ.get("LOG_FORMAT") == "json":
    # Gunicorn's own lines (start, worker restarts, access) as JSON objects, through the
    # same formatter as Retrack's; the access line's fields become fields of their own.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "retrack.lib.logs.JsonFormatter",
                "full_ip_addresses": os.environ.get("RETRACK_LOG_FULL_IP_ADDRESSES", "").lower()
                in ("true", "on", "yes", "1"),
            }
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {
                "handlers": ["console"] if accesslog else [],
                "level": "INFO",
                "propagate": False,
            },
        },
    }

# Metrics: set before any worker imports prometheus-client, which reads it on import.
_made_metrics_folder = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_metrics_folder:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="retrack-metrics-")


def on_starting(server):
    """Start the counters from zero: files left by an earlier run would be added up.

    Only the files of processes that no longer run go: a Celery worker on this machine
    may share the folder (its webhook delivery counts), and its files stay.
    """
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.db"):
        pid = leftover.stem.rpartition("_")[2]
        if not (pid.isdigit() and _is_running(int(pid))):
            leftover.unlink()


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_exit(server, worker):
    """A worker's last counts reach the metrics files before it goes."""
    from retrack.metrics import flush

    flush()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_folder:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
