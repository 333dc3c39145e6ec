from django.core.management.base import BaseCommand, CommandError

from clicks.management.retention import add_retention_arguments, moment_and_batch_size
from clicks.tasks import PRUNE_CLICKS_JOB, prune_clicks_summary, whole_months
from retrack.jobs.services import run_job


class Command(BaseCommand):
    help = "Delete clicks older than --older-than that no conversion refers to."

    def add_arguments(self, parser) -> None:
        add_retention_arguments(parser, example_age="400d")
        parser.add_argument(
            "--whole-months",
            action="store_true",
            help="on partitioned PostgreSQL, go back to the start of that month and drop whole"
            " months only, as the periodic job does (no effect on SQLite)",
        )

    def handle(self, *args, older_than: str, batch_size: int, **options) -> None:
        moment, batch_size = moment_and_batch_size(older_than, batch_size)
        if options["whole_months"]:
            moment = whole_months(moment)
        try:
            summary = run_job(PRUNE_CLICKS_JOB, lambda: prune_clicks_summary(moment, batch_size))
        except ValueError as error:
            raise CommandError(f"--older-than {older_than}: {error}") from error
        self.stdout.write(summary)
