from django.core.management.base import BaseCommand

from clicks.management.retention import add_retention_arguments, moment_and_batch_size
from clicks.tasks import ANONYMIZE_CLICKS_JOB, anonymize_clicks_summary
from retrack.jobs.services import run_job


class Command(BaseCommand):
    help = "Cut the IP address and reduce the user agent of clicks older than --older-than."

    def add_arguments(self, parser) -> None:
        add_retention_arguments(parser, example_age="90d")

    def handle(self, *args, older_than: str, batch_size: int, **options) -> None:
        moment, batch_size = moment_and_batch_size(older_than, batch_size)
        summary = run_job(
            ANONYMIZE_CLICKS_JOB, lambda: anonymize_clicks_summary(moment, batch_size)
        )
        self.stdout.write(summary)
