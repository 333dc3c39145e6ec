from django.db import models


class JobRun(models.Model):
    """The last run of one periodic job (one row per job), whether beat or cron started it."""

    name = models.CharField(max_length=100, unique=True)
    started_at = models.DateTimeField(help_text="When the last run started.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="Empty while it runs.")
    succeeded = models.BooleanField(null=True, help_text="Empty while it runs.")
    summary = models.TextField(blank=True, help_text="What the last run did, or its error.")
    last_success_at = models.DateTimeField(
        null=True, blank=True, help_text="When a run last finished without an error."
    )
    runs = models.PositiveBigIntegerField(default=0, help_text="Runs started, all told.")

    class Meta:
        ordering = ["name"]
        verbose_name = "job run"

    def __str__(self) -> str:
        return self.name
