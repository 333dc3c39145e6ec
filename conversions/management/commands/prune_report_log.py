from django.conf import settings
from django.core.management.base import BaseCommand

from conversions.services.report_log import prune_report_log


class Command(BaseCommand):
    help = "Delete report log entries older than RETRACK_REPORT_LOG_DAYS days (cron)."

    def handle(self, *args, **options) -> None:
        deleted = prune_report_log()
        self.stdout.write(
            f"Deleted {deleted} report log entr{'ies' if deleted != 1 else 'y'} older than "
            f"{settings.RETRACK_REPORT_LOG_DAYS} days."
        )
