from django.core.management.base import BaseCommand

from clicks.tasks import CREATE_CLICK_PARTITIONS_JOB, create_click_partitions_summary
from retrack.jobs.services import run_job


class Command(BaseCommand):
    help = "Make the click table's partitions of this month and the next three (PostgreSQL)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(run_job(CREATE_CLICK_PARTITIONS_JOB, create_click_partitions_summary))
