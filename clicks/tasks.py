"""Periodic jobs of clicks, run by Celery beat (see CELERY_BEAT_SCHEDULE).

The ages come from RETRACK_ANONYMIZE_CLICKS_AFTER_DAYS and RETRACK_PRUNE_CLICKS_AFTER_DAYS
(0 turns a job off); the management commands take theirs from `--older-than`. On
partitioned PostgreSQL the pruning job goes back to the start of that day's month, so that
it only drops whole months: a click is kept its days and at most a month more.
"""

from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from clicks.selectors import clicks_are_partitioned
from clicks.services import anonymize_clicks_before, prune_clicks_before, roll_up_click_days
from clicks.services.partitions import create_click_partitions, month_start
from retrack.jobs.services import run_job

ANONYMIZE_CLICKS_JOB = "anonymize_clicks"
PRUNE_CLICKS_JOB = "prune_clicks"
ROLL_UP_CLICKS_JOB = "roll_up_clicks"
CREATE_CLICK_PARTITIONS_JOB = "create_click_partitions"


def anonymize_clicks_summary(moment: datetime, batch_size: int = 1000) -> str:
    """Anonymize the clicks made before `moment`; the sentence the record and command show."""
    count = anonymize_clicks_before(moment, batch_size=batch_size)
    return f"Anonymized {count} clicks made before {moment:%Y-%m-%d %H:%M} UTC."


def prune_clicks_summary(moment: datetime, batch_size: int = 1000) -> str:
    """Delete the unconverted clicks made before `moment` (ValueError inside a window)."""
    count = prune_clicks_before(moment, batch_size=batch_size)
    return (
        f"Deleted {count} clicks made before {moment:%Y-%m-%d %H:%M} UTC; "
        "clicks with conversions are kept."
    )


def create_click_partitions_summary() -> str:
    """Make the click table's partitions of this month and the next ones (PostgreSQL)."""
    if not clicks_are_partitioned():
        return "Clicks are one table here (SQLite): no partitions to make."
    created = create_click_partitions()
    if not created:
        return "Every partition needed was there already."
    return f"Made the partitions {', '.join(created)}."


def whole_months(moment: datetime) -> datetime:
    """The start of `moment`'s month when clicks are partitioned (pruning then only drops
    whole months, never deletes rows one by one), else `moment` itself."""
    return month_start(moment) if clicks_are_partitioned() else moment


def roll_up_clicks_summary() -> str:
    """Roll up every finished day's clicks not rolled up yet (the partner stats read them)."""
    return f"Rolled up {roll_up_click_days()} day(s) of clicks."


def _days_ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


@shared_task
def anonymize_clicks_job() -> str:
    days = settings.RETRACK_ANONYMIZE_CLICKS_AFTER_DAYS
    if days <= 0:
        return "Off (RETRACK_ANONYMIZE_CLICKS_AFTER_DAYS=0)."
    return run_job(ANONYMIZE_CLICKS_JOB, lambda: anonymize_clicks_summary(_days_ago(days)))


@shared_task
def prune_clicks_job() -> str:
    days = settings.RETRACK_PRUNE_CLICKS_AFTER_DAYS
    if days <= 0:
        return "Off (RETRACK_PRUNE_CLICKS_AFTER_DAYS=0)."
    return run_job(PRUNE_CLICKS_JOB, lambda: prune_clicks_summary(whole_months(_days_ago(days))))


@shared_task
def roll_up_clicks_job() -> str:
    return run_job(ROLL_UP_CLICKS_JOB, roll_up_clicks_summary)


@shared_task
def create_click_partitions_job() -> str:
    return run_job(CREATE_CLICK_PARTITIONS_JOB, create_click_partitions_summary)
