"""/healthz and /readyz, as a load balancer probes them."""

import json
from datetime import timedelta

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from retrack.health import readiness
from retrack.jobs.models import JobRun
from tests.operations.helpers import call, json_body, run_python


def test_healthz_answers_200_without_touching_the_database():
    # No django_db mark: any query would raise.
    status, headers, body = call("/healthz")

    assert status == 200
    assert json_body(body) == {"status": "ok"}
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-store"


def test_the_probes_answer_whatever_the_host_and_on_plain_http(settings):
    settings.SECURE_SSL_REDIRECT = True

    status, _, _ = call("/healthz", HTTP_HOST="10.0.0.12:8000")

    assert status == 200


@pytest.mark.django_db
def test_readyz_answers_200_when_the_database_answers_and_every_migration_is_applied(
    django_assert_max_num_queries,
):
    with django_assert_max_num_queries(5):
        status, headers, body = call("/readyz", HTTP_HOST="10.0.0.12:8000")

    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert json_body(body) == {
        "status": "ready",
        "failing": [],
        "checks": {
            "database": {"ok": True, "result": "ok"},
            "migrations": {"ok": True, "result": "ok"},
        },
        "jobs": {},
        "webhooks": {"waiting": 0},
        "replica": {"state": "none"},
    }


@pytest.mark.django_db
def test_readyz_tells_when_each_job_last_ran_and_the_webhook_backlog():
    started = timezone.now() - timedelta(minutes=5)
    JobRun.objects.create(
        name="approve_due_conversions",
        started_at=started,
        finished_at=started + timedelta(seconds=2),
        succeeded=True,
        last_success_at=started + timedelta(seconds=2),
        runs=12,
    )

    _, _, body = call("/readyz")

    jobs = json_body(body)["jobs"]
    assert jobs == {
        "approve_due_conversions": {
            "started_at": started.isoformat(),
            "finished_at": (started + timedelta(seconds=2)).isoformat(),
            "succeeded": True,
            "last_success_at": (started + timedelta(seconds=2)).isoformat(),
        }
    }


@pytest.mark.django_db
def test_readyz_answers_503_naming_a_migration_that_is_not_applied():
    MigrationRecorder.Migration.objects.filter(
        app="clicks", name="0002_click_is_anonymized"
    ).delete()

    status, _, body = call("/readyz")

    assert status == 503
    document = json_body(body)
    assert document["status"] == "not_ready"
    assert document["failing"] == ["migrations"]
    assert document["checks"]["database"] == {"ok": True, "result": "ok"}
    assert document["checks"]["migrations"] == {
        "ok": False,
        "error": "1 migration(s) not applied: clicks.0002_click_is_anonymized",
    }


def test_readyz_answers_503_naming_the_database_when_it_does_not_answer():
    # A real unreachable database (nothing listens on port 9), in a process of its own.
    result = run_python(
        "import django, json; django.setup()\n"
        "from tests.operations.helpers import call\n"
        "status, headers, body = call('/readyz')\n"
        "print(json.dumps([status, json.loads(body)]))\n",
        DATABASE_URL="postgres://retrack@127.0.0.1:9/retrack",
    )

    assert result.returncode == 0, result.stderr
    status, document = json.loads(result.stdout)
    assert status == 503
    assert document == {
        "status": "not_ready",
        "failing": ["database", "migrations"],
        "checks": {
            "database": {"ok": False, "error": "the database does not answer (OperationalError)"},
            "migrations": {"ok": False, "error": "not checked: the database does not answer"},
        },
    }
    # The details are logged for the operator, not shown to whoever asks.
    assert "port 9 failed" in result.stderr
    assert "port 9" not in result.stdout


@pytest.mark.django_db
def test_readiness_tells_the_registered_facts_beside_the_checks():
    ready, document = readiness(facts={"webhooks": lambda: {"waiting": 3}})

    assert ready is True
    assert document["webhooks"] == {"waiting": 3}


@pytest.mark.django_db
def test_a_fact_that_cannot_be_read_does_not_fail_readiness():
    def unreadable():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM a_table_that_does_not_exist")

    ready, document = readiness(facts={"jobs": unreadable})

    assert ready is True
    assert document["jobs"]["error"].startswith("could not be read (")


def test_the_probes_refuse_other_methods():
    status, headers, _ = call("/healthz", method="POST")

    assert status == 405
    assert headers["Allow"] == "GET, HEAD"
