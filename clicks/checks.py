"""Start-up checks (`manage.py check`, `migrate`) of the click path's settings."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from retrack.lib.geoip import country_lookup


@register()
def check_click_settings(app_configs, **kwargs) -> list:
    problems = []
    if settings.RETRACK_TRUSTED_PROXIES < 0:
        problems.append(
            Error(
                "RETRACK_TRUSTED_PROXIES must be 0 or more.",
                hint="Set it to the number of proxies in front of Retrack; 0 trusts none.",
                id="clicks.E001",
            )
        )
    if settings.RETRACK_GEOIP_PATH and country_lookup(settings.RETRACK_GEOIP_PATH) is None:
        problems.append(
            Warning(
                f"RETRACK_GEOIP_PATH {settings.RETRACK_GEOIP_PATH!r} is not a readable GeoIP2 "
                "Country or City database: clicks are stored without a country.",
                hint="Fix the path or leave RETRACK_GEOIP_PATH empty.",
                id="clicks.W001",
            )
        )
    return problems
