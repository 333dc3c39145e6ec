"""Periodic jobs of conversions, run by Celery beat (see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task
from django.conf import settings

from conversions.services import approve_due_conversions
from conversions.services.report_log import prune_report_log
from retrack.jobs.services import run_job

APPROVE_DUE_CONVERSIONS_JOB = "approve_due_conversions"
PRUNE_REPORT_LOG_JOB = "prune_report_log"


def approve_due_conversions_summary(batch_size: int = 500) -> str:
    """Approve what is due; the sentence the job's record and the command show."""
    approved = approve_due_conversions(batch_size=batch_size)
    return f"Approved {approved} conversion{'s' if approved != 1 else ''}."


@shared_task
def approve_due_conversions_job() -> str:
    return run_job(APPROVE_DUE_CONVERSIONS_JOB, approve_due_conversions_summary)


def prune_report_log_summary() -> str:
    """Prune the report log; the sentence the job's record and the command show."""
    deleted = prune_report_log()
    return (
        f"Deleted {deleted} report log entr{'ies' if deleted != 1 else 'y'} older than "
        f"{settings.RETRACK_REPORT_LOG_DAYS} days."
    )


@shared_task
def prune_report_log_job() -> str:
    return run_job(PRUNE_REPORT_LOG_JOB, prune_report_log_summary)
