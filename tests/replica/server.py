"""Retrack against the test primary and its standby: a database of its own, and gunicorn.

The test process keeps its own connection to the ordinary test database; what the replica
tests check runs in processes configured as production would be: `DATABASE_URL` the
primary, `DATABASE_REPLICA_URL` the standby.
"""

import fcntl
import hashlib
import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from psycopg import sql

from retrack.settings_test import _migrations_fingerprint
from tests.operations.helpers import (
    ROOT,
    clean_environment,
    free_port,
    gunicorn,
)
from tests.replica.clusters import LOCK_PATH, PRIMARY, STANDBY, wait_for_replay

TEMPLATE_PREFIX = "retrack_replica_template_"


def _settings(**environment: str) -> dict[str, str]:
    return clean_environment(DJANGO_SETTINGS_MODULE="retrack.settings_test", **environment)


def _migrated_template() -> str:
    """A database with today's migrations applied, to copy: made once per set of migrations."""
    template = TEMPLATE_PREFIX + _migrations_fingerprint()
    with PRIMARY.connect() as connection:
        rows = connection.execute(
            "SELECT datname, datistemplate FROM pg_database WHERE datname LIKE %s",
            [TEMPLATE_PREFIX + "%"],
        ).fetchall()
        if (template, True) in rows:
            return template
        # Older migrations' templates, or this one half-made by an interrupted run.
        for name, _ in rows:
            connection.execute(
                sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(sql.Identifier(name))
            )
            connection.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
            )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env=_settings(DATABASE_URL=PRIMARY.url(template)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    with PRIMARY.connect() as connection:
        # Marked complete only now: a template is what a test database is copied from.
        connection.execute(
            sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true").format(sql.Identifier(template))
        )
    return template


def fresh_database() -> str:
    """An empty, migrated database on the primary for this test process (one per checkout
    and pytest-xdist worker), made again from the template on every run."""
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"retrack_replica_{checkout}_{worker}"
    with LOCK_PATH.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            template = _migrated_template()
            with PRIMARY.connect() as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
                connection.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    wait_for_replay()
    return name


def seed_shop(database: str) -> dict:
    """A store, a program with its events, an admitted partner with a click, their tokens
    and an operator's session, written on the primary (tests/replica/seed.py)."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.replica.seed"],
        cwd=ROOT,
        env=_settings(DATABASE_URL=PRIMARY.url(database)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    wait_for_replay()
    return json.loads(result.stdout)


@dataclass
class Server:
    """Retrack under gunicorn with the standby as its read replica."""

    port: int
    database: str

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str = "",
        session: str = "",
        query: dict | None = None,
        body: dict | None = None,
    ) -> tuple[int, bytes]:
        headers = {"Host": "127.0.0.1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if session:
            headers["Cookie"] = f"sessionid={session}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if query:
            path = f"{path}?{urlencode(query)}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, **arguments) -> tuple[int, dict]:
        status, body = self.call(method, path, **arguments)
        return status, json.loads(body)


@contextmanager
def replica_server(
    database: str, log_path: Path, replica_url: str | None = None
) -> Iterator[Server]:
    """gunicorn (one worker, eight threads) on `database`: written on the primary, read
    through the standby (or `replica_url`)."""
    port = free_port()
    environment = _settings(
        DEBUG="false",
        DATABASE_URL=PRIMARY.url(database),
        DATABASE_REPLICA_URL=replica_url or STANDBY.url(database),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="8",
        PROMETHEUS_MULTIPROC_DIR=str(log_path.parent / "metrics"),
    )
    with gunicorn(environment, log_path):
        yield Server(port=port, database=database)
