from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversions.services import approve_due_conversions


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
        approved = approve_due_conversions(batch_size=batch_size)
        self.stdout.write(f"Approved {approved} conversion{'s' if approved != 1 else ''}.")
