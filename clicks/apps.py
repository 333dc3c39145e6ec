from django.apps import AppConfig


class ClicksConfig(AppConfig):
    name = "clicks"
    verbose_name = "Clicks"

    def ready(self) -> None:
        from clicks import checks  # noqa: F401  (registers the checks)
