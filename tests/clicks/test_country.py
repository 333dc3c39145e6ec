import logging

import pytest

from clicks.models import Click
from retrack.lib.geoip import country_from_header, header_meta_key, visitor_country
from tests.clicks.mmdb import write_country_database

SWEDISH_ADDRESS = "192.0.2.77"


@pytest.fixture
def country_database(tmp_path):
    return str(
        write_country_database(tmp_path / "country.mmdb", "192.0.2.0/24", "SE", "GeoIP2-Country")
    )


def test_it_reads_the_country_from_a_geoip_database(country_database):
    country = visitor_country({}, SWEDISH_ADDRESS, header_name="", database_path=country_database)

    assert country == "SE"


def test_it_reads_the_country_from_a_city_database(tmp_path):
    path = write_country_database(tmp_path / "city.mmdb", "192.0.2.0/24", "NO", "GeoLite2-City")

    assert visitor_country({}, SWEDISH_ADDRESS, header_name="", database_path=str(path)) == "NO"


@pytest.mark.parametrize("address", ["198.51.100.1", "2001:db8::1", None])
def test_it_leaves_the_country_empty_for_an_address_the_database_does_not_know(
    country_database, address
):
    assert visitor_country({}, address, header_name="", database_path=country_database) == ""


def test_it_prefers_a_valid_header_to_the_database(country_database):
    meta = {"HTTP_CF_IPCOUNTRY": "dk"}

    country = visitor_country(
        meta, SWEDISH_ADDRESS, header_name="CF-IPCountry", database_path=country_database
    )

    assert country == "DK"


def test_it_falls_back_to_the_database_when_the_header_is_not_a_country(country_database):
    meta = {"HTTP_CF_IPCOUNTRY": "T1"}

    country = visitor_country(
        meta, SWEDISH_ADDRESS, header_name="CF-IPCountry", database_path=country_database
    )

    assert country == "SE"


def test_it_leaves_the_country_empty_without_a_header_or_a_database():
    meta = {"HTTP_CF_IPCOUNTRY": "SE"}

    assert visitor_country(meta, SWEDISH_ADDRESS, header_name="", database_path="") == ""


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"this is not a database", "garbage.mmdb"), (None, "missing.mmdb")],
)
def test_it_logs_an_unreadable_database_once_and_leaves_the_country_empty(
    tmp_path, caplog, content, name
):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)

    with caplog.at_level(logging.WARNING, logger="retrack.lib.geoip"):
        first = visitor_country({}, SWEDISH_ADDRESS, header_name="", database_path=str(path))
        second = visitor_country({}, SWEDISH_ADDRESS, header_name="", database_path=str(path))

    assert (first, second) == ("", "")
    warnings = [record for record in caplog.records if "cannot be read" in record.getMessage()]
    assert len(warnings) == 1


def test_it_ignores_a_database_of_another_kind(tmp_path, caplog):
    path = write_country_database(tmp_path / "asn.mmdb", "192.0.2.0/24", "SE", "GeoLite2-ASN")

    with caplog.at_level(logging.WARNING, logger="retrack.lib.geoip"):
        country = visitor_country({}, SWEDISH_ADDRESS, header_name="", database_path=str(path))

    assert country == ""
    assert "not a Country or City one" in caplog.text


@pytest.mark.django_db
def test_a_click_gets_its_country_from_the_database(
    client, partner, program, settings, country_database
):
    settings.RETRACK_GEOIP_PATH = country_database

    response = client.get(
        f"/track/v2/click?publisher={partner.uuid}&program={program.uuid}",
        REMOTE_ADDR=SWEDISH_ADDRESS,
    )

    assert response.status_code == 302
    assert Click.objects.get().country == "SE"


@pytest.mark.django_db
def test_a_click_is_stored_without_a_country_when_the_database_is_unreadable(
    client, partner, program, settings, tmp_path
):
    settings.RETRACK_GEOIP_PATH = str(tmp_path / "nowhere.mmdb")

    response = client.get(
        f"/track/v2/click?publisher={partner.uuid}&program={program.uuid}",
        REMOTE_ADDR=SWEDISH_ADDRESS,
    )

    assert response.status_code == 302
    assert Click.objects.get().country == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("SE", "SE"),
        ("se", "SE"),
        (" no ", "NO"),
        ("XX", ""),
        ("ZZ", ""),
        ("T1", ""),
        ("SWE", ""),
        ("", ""),
    ],
)
def test_it_reads_a_country_header(value, expected):
    assert country_from_header(value) == expected


def test_it_names_the_header_as_wsgi_does():
    assert header_meta_key("CF-IPCountry") == "HTTP_CF_IPCOUNTRY"
