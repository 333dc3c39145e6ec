from django.core.management.base import BaseCommand

from clicks.services import roll_up_click_days


class Command(BaseCommand):
    help = "Count each finished UTC day's clicks per partner and program (for the stats)."

    def handle(self, *args, **options) -> None:
        days = roll_up_click_days()
        self.stdout.write(f"Rolled up {days} day(s) of clicks.")
