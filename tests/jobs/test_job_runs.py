from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from clicks.tasks import anonymize_clicks_job, prune_clicks_job
from conversions.models import ConversionStatus
from conversions.tasks import approve_due_conversions_job
from partners.tasks import sweep_webhook_deliveries_job
from retrack.jobs.models import JobRun
from retrack.jobs.selectors import last_job_runs
from retrack.jobs.services import run_job
from tests.clicks.helpers import uuid7_at
from tests.factories import ClickFactory, ConversionFactory

pytestmark = pytest.mark.django_db


def click_made(days_ago: int):
    moment = timezone.now() - timedelta(days=days_ago)
    return ClickFactory(uuid=uuid7_at(moment), created_at=moment)


def test_it_records_a_jobs_run_and_what_it_did():
    before = timezone.now()

    summary = run_job("example", lambda: "Did 3 things.")

    run = JobRun.objects.get(name="example")
    assert summary == "Did 3 things."
    assert run.summary == "Did 3 things."
    assert run.succeeded is True
    assert before <= run.started_at <= run.finished_at
    assert run.last_success_at == run.finished_at
    assert run.runs == 1


def test_a_failing_run_is_recorded_with_its_error_and_keeps_the_last_success():
    run_job("example", lambda: "fine")
    first_success = JobRun.objects.get(name="example").last_success_at

    def broken() -> str:
        raise ValueError("the database said no")

    with pytest.raises(ValueError):
        run_job("example", broken)

    run = JobRun.objects.get(name="example")
    assert run.succeeded is False
    assert run.summary == "ValueError: the database said no"
    assert run.last_success_at == first_success
    assert run.runs == 2


def test_the_auto_approval_task_approves_and_records():
    old = ConversionFactory(created_at=timezone.now() - timedelta(days=400))

    summary = approve_due_conversions_job()

    old.refresh_from_db()
    assert old.status == ConversionStatus.APPROVED
    assert summary == "Approved 1 conversion."
    assert JobRun.objects.get(name="approve_due_conversions").summary == summary


def test_the_command_records_its_run_like_the_task():
    output = StringIO()

    call_command("approve_due_conversions", stdout=output)

    assert output.getvalue() == "Approved 0 conversions.\n"
    assert JobRun.objects.get(name="approve_due_conversions").succeeded is True


def test_the_click_retention_tasks_use_the_configured_ages(settings):
    settings.RETRACK_ANONYMIZE_CLICKS_AFTER_DAYS = 90
    settings.RETRACK_PRUNE_CLICKS_AFTER_DAYS = 400
    old = click_made(days_ago=500)
    recent = click_made(days_ago=100)

    anonymized = anonymize_clicks_job()
    pruned = prune_clicks_job()

    assert anonymized.startswith("Anonymized 2 clicks made before ")
    assert pruned.startswith("Deleted 1 clicks made before ")
    recent.refresh_from_db()
    assert recent.is_anonymized is True
    assert not type(old).objects.filter(pk=old.pk).exists()
    assert [run.name for run in last_job_runs()] == ["anonymize_clicks", "prune_clicks"]


def test_a_retention_job_set_to_0_days_does_nothing(settings):
    settings.RETRACK_PRUNE_CLICKS_AFTER_DAYS = 0
    click_made(days_ago=5000)

    summary = prune_clicks_job()

    assert summary == "Off (RETRACK_PRUNE_CLICKS_AFTER_DAYS=0)."
    assert not JobRun.objects.exists()


def test_the_sweep_job_records_how_many_it_queued():
    summary = sweep_webhook_deliveries_job()

    assert summary == "Queued 0 webhook deliveries."
    assert JobRun.objects.get(name="sweep_webhook_deliveries").succeeded is True


def test_every_periodic_job_is_on_beats_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert tasks == {
        "conversions.tasks.approve_due_conversions_job",
        "clicks.tasks.anonymize_clicks_job",
        "clicks.tasks.prune_clicks_job",
        "clicks.tasks.roll_up_clicks_job",
        "clicks.tasks.create_click_partitions_job",
        "partners.tasks.sweep_webhook_deliveries_job",
        "conversions.tasks.prune_report_log_job",
        "conversions.tasks.sequence_changes_job",
    }
