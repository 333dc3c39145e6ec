"""Celery tasks of partner webhooks: one attempt per task, and beat's sweep."""

from celery import shared_task

from partners.webhooks.services import attempt_webhook_delivery, sweep_due_deliveries
from retrack.jobs.services import run_job

SWEEP_WEBHOOK_DELIVERIES_JOB = "sweep_webhook_deliveries"


# One task per attempt, bounded in time, so a slow or dead endpoint holds one worker slot
# for at most the time limit and never delays other partners' deliveries behind it. The
# hard limit stays below RETRACK_WEBHOOK_LEASE_SECONDS (default 60).
@shared_task(soft_time_limit=25, time_limit=30)
def deliver_webhook(delivery_pk: int) -> str:
    return attempt_webhook_delivery(delivery_pk)


def queue_due_deliveries_summary() -> str:
    """Queue every due delivery no message covers; the sentence the job's record shows."""
    due = sweep_due_deliveries()
    for delivery_pk in due:
        deliver_webhook.delay(delivery_pk)
    return f"Queued {len(due)} webhook deliver{'ies' if len(due) != 1 else 'y'}."


@shared_task
def sweep_webhook_deliveries_job() -> str:
    return run_job(SWEEP_WEBHOOK_DELIVERIES_JOB, queue_due_deliveries_summary)
