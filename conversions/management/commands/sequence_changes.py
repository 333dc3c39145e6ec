from django.core.management.base import BaseCommand

from conversions.tasks import SEQUENCE_CHANGES_JOB, sequence_changes_summary
from retrack.jobs.services import run_job


class Command(BaseCommand):
    help = (
        "Number committed changes for the partner feed and webhooks (beat does it every "
        "second; run it by hand where no beat runs)."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(run_job(SEQUENCE_CHANGES_JOB, sequence_changes_summary))
