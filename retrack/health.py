"""Liveness and readiness, for load balancers and orchestrators: /healthz and /readyz.

/readyz runs each of `READINESS_CHECKS`; any that raises `NotReady` (or fails on the
database) makes the answer 503 naming it. `READINESS_FACTS` are told beside the checks
but never fail readiness: when each periodic job last ran, how many webhook deliveries
wait. Each is one function returning something JSON can hold; add it to the dict.
"""

import logging
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from partners.webhooks.selectors import waiting_delivery_count
from retrack.jobs.selectors import last_job_runs
from retrack.lib.answers import Answer, json_answer, method_not_allowed
from retrack.lib.replica import replica_state

logger = logging.getLogger(__name__)


class NotReady(Exception):
    """A readiness check failed; the message says what an operator should look at."""


def check_database() -> str:
    """The database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        # The full message (host, port) is for the log, not for an unauthenticated page.
        logger.warning("Readiness: the database does not answer: %s", error)
        raise NotReady(f"the database does not answer ({type(error).__name__})") from None
    return "ok"


def check_migrations() -> str:
    """Every migration in the code is applied to the database."""
    pending = pending_migrations()
    if pending:
        shown = ", ".join(pending[:10]) + (", …" if len(pending) > 10 else "")
        raise NotReady(f"{len(pending)} migration(s) not applied: {shown}")
    return "ok"


def pending_migrations() -> list[str]:
    """The migrations in the code that the database has not recorded, as `app.name`."""
    applied = MigrationRecorder(connection).applied_migrations()
    return sorted(f"{app}.{name}" for app, name in _migrations_in_code() - applied.keys())


@cache
def _migrations_in_code() -> frozenset[tuple[str, str]]:
    # The code a process runs does not change under it: read the migration graph once,
    # so that each probe costs one query for the applied ones.
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


READINESS_CHECKS: dict[str, Callable[[], Any]] = {
    "database": check_database,
    "migrations": check_migrations,
}


def job_last_runs() -> dict[str, dict[str, Any]]:
    """When each periodic job last ran, and how."""
    return {
        run.name: {
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "succeeded": run.succeeded,
            "last_success_at": run.last_success_at,
        }
        for run in last_job_runs()
    }


def webhook_backlog() -> dict[str, int]:
    """How many webhook deliveries wait to be sent."""
    return {"waiting": waiting_delivery_count()}


def read_replica() -> dict[str, str]:
    """The read replica: "up", "down" (the reads that may lag go to the primary, so
    Retrack stays ready), or "none" without DATABASE_REPLICA_URL."""
    return {"state": replica_state()}


READINESS_FACTS: dict[str, Callable[[], Any]] = {
    "jobs": job_last_runs,
    "webhooks": webhook_backlog,
    "replica": read_replica,
}


def readiness(
    checks: Mapping[str, Callable[[], Any]] = READINESS_CHECKS,
    facts: Mapping[str, Callable[[], Any]] = READINESS_FACTS,
) -> tuple[bool, dict[str, Any]]:
    """Whether Retrack is ready to serve, and the document /readyz answers."""
    results: dict[str, dict[str, Any]] = {}
    failing: list[str] = []
    for name, check in checks.items():
        if "database" in failing:
            # Every later check would only fail the same way, and slowly.
            results[name] = {"ok": False, "error": "not checked: the database does not answer"}
            failing.append(name)
            continue
        try:
            results[name] = {"ok": True, "result": check()}
        except (NotReady, DatabaseError) as error:
            results[name] = {"ok": False, "error": str(error) or type(error).__name__}
            failing.append(name)
    document: dict[str, Any] = {
        "status": "not_ready" if failing else "ready",
        "failing": failing,
        "checks": results,
    }
    if not failing:
        for name, fact in facts.items():
            try:
                document[name] = fact()
            except DatabaseError as error:
                logger.warning("Readiness: the fact %r could not be read: %s", name, error)
                document[name] = {"error": f"could not be read ({type(error).__name__})"}
    return not failing, document


def answer_health(environ: Mapping[str, Any]) -> Answer:
    """/healthz: 200 while the process runs; it touches nothing else."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return method_not_allowed("GET", "HEAD")
    return json_answer(200, {"status": "ok"})


def answer_readiness(environ: Mapping[str, Any]) -> Answer:
    """/readyz: 200 when every check passes, else 503 naming the failing ones."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return method_not_allowed("GET", "HEAD")
    ready, document = readiness()
    return json_answer(200 if ready else 503, document)
