from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversions.tasks import APPROVE_DUE_CONVERSIONS_JOB, approve_due_conversions_summary
from retrack.jobs.services import run_job


class Command(BaseCommand):
    help = "Approve pending conversions whose program's validation period has passed (cron)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="How many conversions are read at a time (default 500).",
        )

    def handle(self, *args, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        summary = run_job(
            APPROVE_DUE_CONVERSIONS_JOB, lambda: approve_due_conversions_summary(batch_size)
        )
        self.stdout.write(summary)
