"""Real Celery workers for tests: `celery -A retrack worker` processes on RabbitMQ.

Each test gets a queue of its own (test runs may share one RabbitMQ), the in-process
publisher is pointed at the same broker and queue, and the workers read the test's
database. Short retry delays, lease and sweep interval keep each test to seconds.
"""

import functools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from django.conf import settings
from django.db import connection
from kombu import Connection

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
WORKER_SETTINGS = {
    "RETRACK_WEBHOOK_ALLOW_PRIVATE": "true",
    "RETRACK_WEBHOOK_RETRY_SECONDS": "1,1,1",
    "RETRACK_WEBHOOK_LEASE_SECONDS": "2",
    "RETRACK_WEBHOOK_SWEEP_SECONDS": "0.5",
}
BASE_DIR = Path(settings.BASE_DIR)


@functools.cache
def rabbitmq_reachable() -> bool:
    try:
        with Connection(BROKER_URL, connect_timeout=2) as probe:
            probe.ensure_connection(max_retries=1)
    except Exception:
        return False
    return True


def database_url() -> str:
    """The URL of the test database this process uses, for a worker process to open."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    return (
        f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


@contextmanager
def celery_worker(queue: str, log_path: Path) -> Iterator[subprocess.Popen]:
    """A worker with beat in its own process group, stopped (or killed) at the end."""
    environment = {
        **os.environ,
        **WORKER_SETTINGS,
        "DJANGO_SETTINGS_MODULE": "retrack.settings_test",
        "DATABASE_URL": database_url(),
        "RETRACK_TEST_CELERY_BROKER_URL": BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "retrack",
        "worker",
        "--beat",
        f"--schedule={log_path.with_suffix('.schedule')}",
        # A node name of its own: workers sharing a name on one broker lock each other out.
        f"--hostname={queue}@%h",
        "--pool=threads",
        "--concurrency=4",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=INFO",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_worker(process, signal.SIGTERM)


def stop_worker(process: subprocess.Popen, how: signal.Signals) -> None:
    """Signal the worker's whole process group (beat included) and reap it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, how)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> bool:
    """Poll `condition` until it holds or `seconds` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


class SilentBroker:
    """A TCP server that accepts connections and never answers: a broker that hangs."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"amqp://guest:guest@127.0.0.1:{self.server.getsockname()[1]}//"
        self.connections: list[socket.socket] = []

    def accept_pending(self) -> None:
        self.server.settimeout(0.05)
        # accept() raises (a timeout) once no connection is waiting.
        with suppress(OSError):
            while True:
                accepted, _ = self.server.accept()
                self.connections.append(accepted)

    def has_connections(self) -> bool:
        self.accept_pending()
        return bool(self.connections)

    def closed_by_client(self) -> bool:
        """Whether a client gave up on a connection (it closed its end)."""
        self.accept_pending()
        for accepted in self.connections:
            accepted.setblocking(False)
            try:
                while accepted.recv(4096):
                    continue  # drain what the client sent
                return True  # an empty read: the client closed it
            except BlockingIOError:
                continue  # still open, waiting for an answer that never comes
        return False

    def close(self) -> None:
        for accepted in self.connections:
            accepted.close()
        self.server.close()
