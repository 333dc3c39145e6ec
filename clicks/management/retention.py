"""Argument reading shared by the retention commands (anonymize_clicks, prune_clicks)."""

from datetime import datetime, timedelta

from django.core.management import CommandError
from django.core.management.base import CommandParser
from django.utils import timezone

from retrack.lib.durations import parse_age

MAX_BATCH_SIZE = 10_000


def add_retention_arguments(parser: CommandParser, example_age: str) -> None:
    parser.add_argument(
        "--older-than",
        required=True,
        metavar="AGE",
        help=f"the age of the clicks to treat: a number and d, h or m, e.g. {example_age}",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=1000,
        help=f"clicks per statement, 1 to {MAX_BATCH_SIZE} (default 1000)",
    )


def moment_and_batch_size(older_than: str, batch_size: int) -> tuple[datetime, int]:
    """The moment before which clicks are treated, and the batch size; CommandError if bad."""
    try:
        age: timedelta = parse_age(older_than)
    except ValueError as error:
        raise CommandError(f"--older-than: {error}") from error
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise CommandError(f"--batch-size must be from 1 to {MAX_BATCH_SIZE}, not {batch_size}")
    return timezone.now() - age, batch_size
