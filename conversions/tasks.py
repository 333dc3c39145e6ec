"""Periodic jobs of conversions, run by Celery beat (see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from conversions.services import approve_due_conversions
from retrack.jobs.services import run_job

APPROVE_DUE_CONVERSIONS_JOB = "approve_due_conversions"


def approve_due_conversions_summary(batch_size: int = 500) -> str:
    """Approve what is due; the sentence the job's record and the command show."""
    approved = approve_due_conversions(batch_size=batch_size)
    return f"Approved {approved} conversion{'s' if approved != 1 else ''}."


@shared_task
def approve_due_conversions_job() -> str:
    return run_job(APPROVE_DUE_CONVERSIONS_JOB, approve_due_conversions_summary)
