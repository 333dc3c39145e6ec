"""GET /api/v2/partner/stats: per UTC day and program, clicks, conversions, commission."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.factories import (
    AdmissionFactory,
    ClickFactory,
    ConversionFactory,
    PartnerFactory,
    ProgramFactory,
)
from tests.partners.helpers import client_for

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 20)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def partner():
    return PartnerFactory(name="Refunder SE")


@pytest.fixture
def program(partner):
    program = ProgramFactory(name="Awesome Store SE", currency="SEK")
    AdmissionFactory(partner=partner, program=program)
    return program


def _stats(partner, **params):
    return client_for(partner).get("/api/v2/partner/stats", params)


def test_it_counts_each_utc_day_and_program(partner, program):
    # given three clicks on the 20th (one a bot, one at 23:00 UTC) and one on the 21st
    clicks = [ClickFactory(partner=partner, program=program, created_at=_at(DAY, 9)) for _ in "ab"]
    ClickFactory(partner=partner, program=program, created_at=_at(DAY, 10), is_bot=True)
    ClickFactory(partner=partner, program=program, created_at=_at(DAY, 23))
    ClickFactory(partner=partner, program=program, created_at=_at(DAY + timedelta(days=1), 0))
    # and three conversions on the 20th, one of each status, and another partner's
    for status, commission in [("pending", 100), ("approved", 250), ("rejected", 40)]:
        ConversionFactory(
            click=clicks[0], status=status, commission=commission, created_at=_at(DAY, 12)
        )
    ConversionFactory(click=ClickFactory(program=program), created_at=_at(DAY, 12))

    response = _stats(partner, **{"from": "2026-11-20", "to": "2026-11-21"})

    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {
                "date": "2026-11-20",
                "program": {"uuid": str(program.uuid), "name": "Awesome Store SE"},
                "currency": "SEK",
                "clicks": 3,
                "conversions": 3,
                "commission": {"pending": 100, "approved": 250, "rejected": 40},
                "conversion_rate": 100.0,
            },
            {
                "date": "2026-11-21",
                "program": {"uuid": str(program.uuid), "name": "Awesome Store SE"},
                "currency": "SEK",
                "clicks": 1,
                "conversions": 0,
                "commission": {"pending": 0, "approved": 0, "rejected": 0},
                "conversion_rate": 0.0,
            },
        ]
    }


def test_a_day_without_clicks_has_no_rate(partner, program):
    response = _stats(partner, **{"from": "2026-11-20", "to": "2026-11-20"})

    assert [row["conversion_rate"] for row in response.json()["data"]] == [None]


def test_it_narrows_to_one_program(partner, program):
    other = ProgramFactory(name="Awesome Store NO", currency="NOK")
    AdmissionFactory(partner=partner, program=other)
    ClickFactory(partner=partner, program=other, created_at=_at(DAY, 9))

    both = _stats(partner, **{"from": "2026-11-20", "to": "2026-11-20"}).json()["data"]
    one = _stats(partner, **{"from": "2026-11-20", "to": "2026-11-20", "program": other.uuid})

    assert [(row["program"]["name"], row["clicks"]) for row in both] == [
        ("Awesome Store NO", 1),
        ("Awesome Store SE", 0),
    ]
    assert [(row["program"]["name"], row["currency"]) for row in one.json()["data"]] == [
        ("Awesome Store NO", "NOK")
    ]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"from": "2026-11-21", "to": "2026-11-20"}, ["to"]),
        ({"from": "2025-01-01", "to": "2026-11-20"}, ["to"]),
        ({"from": "20 Nov"}, ["from"]),
        ({"program": "not-a-uuid"}, ["program"]),
        ({"program": "0b7e4c1d-3a2f-4e8b-9c6d-5a1f2e3d4c5b"}, ["program"]),
    ],
)
def test_it_refuses_a_bad_period_or_program(partner, program, params, fields):
    response = _stats(partner, **params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert sorted(response.json()["error"]["fields"]) == fields


def test_it_defaults_to_the_last_thirty_days(partner, program):
    rows = _stats(partner).json()["data"]

    assert len(rows) == 30
    assert rows[-1]["date"] == datetime.now(UTC).date().isoformat()
