from django.core.management.base import BaseCommand

from conversions.tasks import PRUNE_REPORT_LOG_JOB, prune_report_log_summary
from retrack.jobs.services import run_job


class Command(BaseCommand):
    help = "Delete report log entries older than RETRACK_REPORT_LOG_DAYS days (cron)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(run_job(PRUNE_REPORT_LOG_JOB, prune_report_log_summary))
