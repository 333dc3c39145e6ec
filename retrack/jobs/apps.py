from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Periodic jobs' records: when each last ran and what it did."""

    name = "retrack.jobs"
    label = "jobs"
    verbose_name = "Periodic jobs"
