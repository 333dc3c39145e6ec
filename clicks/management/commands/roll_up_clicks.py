from django.core.management.base import BaseCommand

from clicks.tasks import ROLL_UP_CLICKS_JOB, roll_up_clicks_summary
from retrack.jobs.services import run_job


class Command(BaseCommand):
    help = "Count each finished UTC day's clicks per partner and program (for the stats)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(run_job(ROLL_UP_CLICKS_JOB, roll_up_clicks_summary))
