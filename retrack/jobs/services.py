"""Running a periodic job and recording when it ran and what it did."""

import logging
from collections.abc import Callable

from django.db.models import F
from django.utils import timezone

from retrack.jobs.models import JobRun

logger = logging.getLogger(__name__)

SUMMARY_MAX_LENGTH = 2000


def run_job(name: str, work: Callable[[], str]) -> str:
    """Run `work` as the job `name`, recording its start, its end and its summary.

    The Celery tasks and the management commands both run their job through here, so the
    record tells when the job last ran whoever started it. An exception is recorded as the
    run's summary and raised again.
    """
    started_at = timezone.now()
    # An upsert on the unique name: two runs starting at once don't collide.
    JobRun.objects.update_or_create(
        name=name,
        defaults={
            "started_at": started_at,
            "finished_at": None,
            "succeeded": None,
            "runs": F("runs") + 1,
        },
        create_defaults={"started_at": started_at, "runs": 1},
    )
    try:
        summary = work()
    except Exception as error:
        _finish(name, succeeded=False, summary=f"{type(error).__name__}: {error}")
        logger.exception("Job %s failed", name)
        raise
    _finish(name, succeeded=True, summary=summary)
    return summary


def _finish(name: str, *, succeeded: bool, summary: str) -> None:
    now = timezone.now()
    fields = {"finished_at": now, "succeeded": succeeded, "summary": summary[:SUMMARY_MAX_LENGTH]}
    if succeeded:
        fields["last_success_at"] = now
    JobRun.objects.filter(name=name).update(**fields)
