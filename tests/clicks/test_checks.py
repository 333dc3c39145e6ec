import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.clicks.mmdb import write_country_database


def test_the_system_check_warns_about_an_unreadable_database(settings, tmp_path, capsys):
    settings.RETRACK_GEOIP_PATH = str(tmp_path / "nowhere.mmdb")

    call_command("check")

    assert "clicks.W001" in capsys.readouterr().err


def test_the_system_check_accepts_a_readable_database(settings, tmp_path, capsys):
    path = tmp_path / "country.mmdb"
    settings.RETRACK_GEOIP_PATH = str(
        write_country_database(path, "192.0.2.0/24", "SE", "GeoIP2-Country")
    )

    call_command("check")

    assert "clicks.W001" not in capsys.readouterr().err


def test_the_system_check_refuses_a_negative_number_of_trusted_proxies(settings):
    settings.RETRACK_TRUSTED_PROXIES = -1

    with pytest.raises(SystemCheckError, match="clicks.E001"):
        call_command("check")
