"""Reads of the periodic jobs' records, for the back office and the readiness check."""

from django.db.models import QuerySet

from retrack.jobs.models import JobRun


def last_job_runs() -> QuerySet[JobRun]:
    """Every job that has run at least once, by name, with its last run."""
    return JobRun.objects.order_by("name")
