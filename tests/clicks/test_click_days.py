from datetime import UTC, date, datetime, timedelta

import pytest

from clicks.models import ClickDay, ClickDayRollup
from clicks.selectors import click_day_counts
from clicks.services import roll_up_click_days
from tests.backoffice.helpers import uuid7_at
from tests.factories import ClickFactory, PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db

MARCH_1, MARCH_2, MARCH_3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clicks():
    program, partner = ProgramFactory(), PartnerFactory()

    def make(moment, number=1, **fields):
        for _ in range(number):
            ClickFactory(
                program=program, partner=partner, created_at=moment, uuid=uuid7_at(moment), **fields
            )

    make(at(MARCH_1, 0), 2)
    make(at(MARCH_1, 23, 59), 1, is_bot=True)
    make(at(MARCH_2), 3)
    make(at(MARCH_3), 4)
    return program, partner


def counts(rows) -> dict:
    return {(row["day"], row["is_bot"]): row["number"] for row in rows}


def test_it_rolls_up_each_closed_day_once(clicks):
    program, partner = clicks
    now = at(MARCH_3, 0, 10)

    rolled = roll_up_click_days(MARCH_1, MARCH_3, now=now)
    again = roll_up_click_days(MARCH_1, MARCH_3, now=now)

    assert rolled == [MARCH_1, MARCH_2]
    assert again == []
    stored = ClickDay.objects.values("day", "is_bot", "number", "program_id", "partner_id")
    assert counts(stored) == {(MARCH_1, False): 2, (MARCH_1, True): 1, (MARCH_2, False): 3}
    assert {row["program_id"] for row in stored} == {program.pk}
    assert {row["partner_id"] for row in stored} == {partner.pk}


def test_a_day_is_not_rolled_up_until_ten_minutes_after_it_ends(clicks):
    assert roll_up_click_days(MARCH_2, MARCH_2, now=at(MARCH_3, 0, 9)) == []
    assert ClickDayRollup.objects.count() == 0


def test_a_day_without_clicks_is_rolled_up_as_empty(db):
    empty = MARCH_1 - timedelta(days=5)

    assert roll_up_click_days(empty, empty, now=at(MARCH_1)) == [empty]
    assert ClickDay.objects.count() == 0
    assert ClickDayRollup.objects.filter(day=empty).exists()


def test_counts_come_from_the_roll_up_for_closed_days_and_the_clicks_for_the_others(clicks):
    roll_up_click_days(MARCH_1, MARCH_1, now=at(MARCH_3))
    # A click stamped on a rolled-up day afterwards is not counted again: the roll-up answers.
    program, partner = clicks
    ClickFactory(
        program=program, partner=partner, created_at=at(MARCH_1), uuid=uuid7_at(at(MARCH_1))
    )

    rows = click_day_counts(MARCH_1, MARCH_3)

    assert counts(rows) == {
        (MARCH_1, False): 2,
        (MARCH_1, True): 1,
        (MARCH_2, False): 3,
        (MARCH_3, False): 4,
    }


def test_counts_narrow_to_a_program(clicks):
    other = ProgramFactory()
    ClickFactory(program=other, created_at=at(MARCH_1), uuid=uuid7_at(at(MARCH_1)))
    ClickFactory(program=other, created_at=at(MARCH_3), uuid=uuid7_at(at(MARCH_3)))
    roll_up_click_days(MARCH_1, MARCH_2, now=at(MARCH_3, 1))

    assert counts(click_day_counts(MARCH_1, MARCH_3, program_id=other.pk)) == {
        (MARCH_1, False): 1,
        (MARCH_3, False): 1,
    }
