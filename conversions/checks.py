"""Start-up checks (`manage.py check`, `migrate`) of the conversions' settings."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from conversions.tag.throttling import CHOICES, cache_is_shared, counts_in_cache


@register()
def check_throttle_settings(app_configs, **kwargs) -> list:
    if settings.RETRACK_THROTTLE_COUNTS not in CHOICES:
        return [
            Error(
                f"RETRACK_THROTTLE_COUNTS must be one of {', '.join(CHOICES)}.",
                hint="Leave it unset: 'auto' counts in Redis when CACHE_URL names it, "
                "else in the database.",
                id="conversions.E001",
            )
        ]
    if counts_in_cache() and not cache_is_shared():
        return [
            Warning(
                "The browser tag's throttles count in a cache that worker processes do not "
                f"share ({settings.CACHES['default']['BACKEND']}): with several workers each "
                "lets the whole limit through.",
                hint="Set CACHE_URL to Redis (rediscache://…) or RETRACK_THROTTLE_COUNTS "
                "to 'database' (or 'auto').",
                id="conversions.W001",
            )
        ]
    return []
