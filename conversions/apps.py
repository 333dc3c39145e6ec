from django.apps import AppConfig


class ConversionsConfig(AppConfig):
    name = "conversions"
    verbose_name = "Conversions"

    def ready(self) -> None:
        from conversions import checks  # noqa: F401  (registers the checks)
