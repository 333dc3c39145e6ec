"""A private PgBouncer in transaction mode in front of the test database, and Retrack's
gunicorn and management commands served through it.

PgBouncer is Debian's package (`make pgbouncer`; .ci/run installs it). It refuses to run
as root, so as root (CI) it is started with `-u nobody`: it reads its files first, then
drops to that user. Its pool is smaller than gunicorn's threads, so that transactions of
different requests share server connections as they do in production, and anything a
session kept between transactions would be lost (or seen by another request).
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection

from tests.operations.helpers import (
    ROOT,
    clean_environment,
    free_port,
    gunicorn,
)

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else None
)
# Server connections per database and user: fewer than the clients (gunicorn's 2 × 4
# threads), so that consecutive transactions of one client run on different ones.
POOL_SIZE = 2


@dataclass(frozen=True)
class Bouncer:
    port: int
    process: subprocess.Popen
    log: Path

    def database_url(self) -> str:
        """The test database's URL through PgBouncer."""
        database = connection.settings_dict
        credentials = database["USER"] + (
            f":{database['PASSWORD']}" if database["PASSWORD"] else ""
        )
        return f"postgres://{credentials}@127.0.0.1:{self.port}/{database['NAME']}"


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@contextmanager
def running_pgbouncer(folder: Path) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode on a free port, in front of the test database's server."""
    database = connection.settings_dict
    port = free_port()
    users = folder / "users.txt"
    # With `trust` the password is not asked of clients; PgBouncer logs in to PostgreSQL with it.
    users.write_text(f"{_quoted(database['USER'])} {_quoted(database['PASSWORD'] or '')}\n")
    ini = folder / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"* = host={database['HOST'] or '127.0.0.1'} port={database['PORT'] or 5432}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {users}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {POOL_SIZE}\n"
        "max_client_conn = 200\n"
    )
    log = folder / "pgbouncer.log"
    as_user = ["-u", "nobody"] if os.getuid() == 0 else []
    with log.open("wb") as output:
        process = subprocess.Popen(
            [PGBOUNCER, *as_user, str(ini)], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_pgbouncer(port, process, log)
        yield Bouncer(port=port, process=process, log=log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_pgbouncer(port: int, process: subprocess.Popen, log: Path) -> None:
    database = connection.settings_dict
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, f"pgbouncer stopped: {log.read_text()}"
        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=port,
                dbname=database["NAME"],
                user=database["USER"],
                connect_timeout=2,
            ) as probe:
                probe.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def retrack_environment(bouncer: Bouncer, folder: Path, **overrides: str) -> dict[str, str]:
    """Production settings with the database through PgBouncer in transaction mode."""
    environment = dict(
        DJANGO_SETTINGS_MODULE="retrack.settings",
        RETRACK_ENV_FILE="",
        DEBUG="false",
        # The test process's key: the sessions it logs operators in with are valid there.
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=bouncer.database_url(),
        DATABASE_POOLER="transaction",
        CELERY_BROKER_URL="memory://",
        RETRACK_BROKER_FOLDER=str(folder / "celery"),
        PROMETHEUS_MULTIPROC_DIR=str(folder / "metrics"),
    )
    return clean_environment(**{**environment, **overrides})


@contextmanager
def gunicorn_through(bouncer: Bouncer, folder: Path, **overrides: str) -> Iterator[int]:
    """Retrack under gunicorn (2 workers × 4 threads) through PgBouncer; yields its port."""
    port = free_port()
    environment = retrack_environment(
        bouncer,
        folder,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="4",
        **overrides,
    )
    log = folder / "gunicorn.log"
    with gunicorn(environment, log):
        yield port
    assert b"Traceback" not in log.read_bytes(), log.read_text()


def manage_through(bouncer: Bouncer, folder: Path, *command: str) -> str:
    """A management command run through PgBouncer; its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=retrack_environment(bouncer, folder),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def request(port: int, method: str, path: str, body: dict | None = None, **headers: str) -> Answer:
    """One HTTP request on a connection of its own (the callers run many threads)."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = None if body is None else json.dumps(body).encode()
        if payload is not None:
            headers.setdefault("Content-Type", "application/json")
        client.request(method, path, body=payload, headers=headers)
        response = client.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read())
    finally:
        client.close()
