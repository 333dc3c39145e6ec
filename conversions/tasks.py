"""Periodic jobs of conversions, run by Celery beat (see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task
from django.conf import settings

from conversions.services import approve_due_conversions
from conversions.services.report_log import prune_report_log
from conversions.services.sequencing import sequence_committed_changes
from retrack.jobs.services import run_job

APPROVE_DUE_CONVERSIONS_JOB = "approve_due_conversions"
PRUNE_REPORT_LOG_JOB = "prune_report_log"
SEQUENCE_CHANGES_JOB = "sequence_changes"
# One beat run drains a backlog of up to this many batches (SEQUENCE_BATCH rows each).
SEQUENCE_RUNS_PER_JOB = 50


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


def sequence_changes_summary() -> str:
    """Number what is committed and unnumbered; the sentence the job's record shows.

    Beat runs it every RETRACK_SEQUENCER_SECONDS: it keeps the feed moving where nothing
    else runs the sequencer (a feed read from a replica, a change with no webhook).
    """
    numbered = sequence_committed_changes(max_runs=SEQUENCE_RUNS_PER_JOB)
    return f"Numbered {numbered} change{'s' if numbered != 1 else ''}."


@shared_task
def sequence_changes_job() -> str:
    return run_job(SEQUENCE_CHANGES_JOB, sequence_changes_summary)


# Asked for by a committed change whose partner has webhook endpoints (dispatch.py): it
# waits for a run in progress, so that the change it follows is numbered and its
# deliveries written and queued when it returns.
@shared_task(soft_time_limit=25, time_limit=30)
def sequence_changes() -> int:
    return sequence_committed_changes(wait=True, max_runs=SEQUENCE_RUNS_PER_JOB)
