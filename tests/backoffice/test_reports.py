from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clicks.models import ClickDay
from clicks.services import roll_up_click_days
from conversions.models import ConversionStatus
from conversions.reports import program_daily_report
from stores.models import EventKind
from tests.clicks.helpers import uuid7_at
from tests.factories import (
    ClickFactory,
    ConversionFactory,
    LeadEventFactory,
    PartnerFactory,
    ProgramFactory,
)

pytestmark = pytest.mark.django_db

OVERVIEW_URL = "/admin/conversions/conversion/overview/"
MARCH_10, MARCH_11, MARCH_12 = date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def known_data():
    """Two programs over 10-12 March 2025, with rows just outside the period and bots."""
    partner = PartnerFactory()
    shoes = ProgramFactory(name="Awesome Store SE", currency="SEK")
    tents = ProgramFactory(name="Nordic Outdoor NO", currency="NOK")

    def clicks(program, moment, number=1, **fields):
        return [
            ClickFactory(
                program=program, partner=partner, created_at=moment, uuid=uuid7_at(moment), **fields
            )
            for _ in range(number)
        ]

    click = clicks(shoes, at(MARCH_10, 0, 0, 0), 3)[0]
    clicks(shoes, at(MARCH_10), is_bot=True)
    clicks(shoes, at(MARCH_12, 23, 59, 59), 2)
    clicks(shoes, at(MARCH_10) - timedelta(days=1))
    clicks(shoes, at(MARCH_12 + timedelta(days=1), 0, 0, 0))
    clicks(tents, at(MARCH_11))

    def conversion(moment, **fields):
        return ConversionFactory(click=click, created_at=moment, **fields)

    conversion(at(MARCH_10), order_sum=10000, vat_sum=2000, commission=800)
    conversion(
        at(MARCH_10, 18),
        status=ConversionStatus.REJECTED,
        order_sum=5000,
        vat_sum=1000,
        commission=400,
    )
    conversion(
        at(MARCH_10, 23, 59, 59),
        kind=EventKind.LEAD,
        order_number=None,
        reference="member-1",
        event=LeadEventFactory(program=shoes),
        status=ConversionStatus.APPROVED,
        order_sum=0,
        vat_sum=0,
        commission=4000,
    )
    conversion(
        at(MARCH_12, 23, 59),
        status=ConversionStatus.APPROVED,
        order_sum=20000,
        vat_sum=4000,
        commission=1600,
    )
    conversion(at(MARCH_12 + timedelta(days=1)), order_sum=99900, commission=9900)
    return shoes, tents


def figures(day_figures) -> tuple:
    return (
        day_figures.clicks,
        day_figures.counts,
        day_figures.conversion_rate,
        day_figures.order_sum,
        day_figures.commission,
    )


def test_it_counts_clicks_and_conversions_per_program_and_day(known_data):
    shoes, tents = known_data

    report = program_daily_report([shoes, tents], MARCH_10, MARCH_12)

    by_program = {entry.program: entry for entry in report.programs}
    # counts: transactions pending/approved/rejected, then leads pending/approved/rejected
    assert {day: figures(f) for day, f in by_program[shoes].days.items()} == {
        MARCH_10: (3, [1, 0, 1, 0, 1, 0], Decimal("100.00"), 10000, 4800),
        MARCH_11: (0, [0, 0, 0, 0, 0, 0], None, 0, 0),
        MARCH_12: (2, [0, 1, 0, 0, 0, 0], Decimal("50.00"), 20000, 1600),
    }
    assert figures(by_program[shoes].total) == (
        5,
        [1, 1, 1, 0, 1, 0],
        Decimal("80.00"),
        30000,
        6400,
    )
    assert figures(by_program[tents].total) == (1, [0] * 6, Decimal("0.00"), 0, 0)
    assert [(day, f.clicks, f.conversions) for day, f in report.daily.items()] == [
        (MARCH_10, 3, 3),
        (MARCH_11, 1, 0),
        (MARCH_12, 2, 1),
    ]


def test_it_reads_rolled_up_days_from_click_day_and_counts_later_days_live(known_data):
    shoes, tents = known_data
    other_partner = PartnerFactory()
    ClickFactory(
        program=shoes, partner=other_partner, created_at=at(MARCH_10), uuid=uuid7_at(at(MARCH_10))
    )
    # The roll-up has run after 11 March: the 10th and 11th come from ClickDay, the 12th live.
    roll_up_click_days(now=at(MARCH_12, 6))
    ClickFactory(
        program=shoes, partner=other_partner, created_at=at(MARCH_12), uuid=uuid7_at(at(MARCH_12))
    )

    report = program_daily_report([shoes, tents], MARCH_10, MARCH_12)

    by_program = {entry.program: entry for entry in report.programs}
    # Two partners' rows for the 10th, summed.
    assert ClickDay.objects.filter(program=shoes, day=MARCH_10).count() == 2
    assert {day: f.clicks for day, f in by_program[shoes].days.items()} == {
        MARCH_10: 4,
        MARCH_11: 0,
        MARCH_12: 3,
    }
    assert {day: f.clicks for day, f in by_program[tents].days.items()} == {
        MARCH_10: 0,
        MARCH_11: 1,
        MARCH_12: 0,
    }


def test_it_rounds_the_conversion_rate_half_up_to_two_decimals():
    program = ProgramFactory()
    clicks = [
        ClickFactory(program=program, created_at=at(MARCH_10), uuid=uuid7_at(at(MARCH_10)))
        for _ in range(3)
    ]
    ConversionFactory(click=clicks[0], created_at=at(MARCH_10))

    report = program_daily_report([program], MARCH_10, MARCH_10)

    assert report.programs[0].total.conversion_rate == Decimal("33.33")


def test_it_refuses_a_period_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="a report covers 1 to 366 days"):
        program_daily_report([], MARCH_12, MARCH_10)


def test_the_overview_page_shows_the_figures_and_a_chart(support_client, known_data):
    shoes, _ = known_data

    response = support_client.get(
        OVERVIEW_URL, {"start": "2025-03-10", "end": "2025-03-12", "program": shoes.pk}
    )

    page = response.content.decode()
    assert response.status_code == 200
    total_row = page.split('<tr class="program-total">')[1].split("</tr>")[0]
    cells = [cell.split("</td>")[0] for cell in total_row.split("<td>")[1:]]
    money = ["300.00\xa0SEK", "64.00\xa0SEK"]
    assert cells == ["5", "1", "1", "1", "0", "1", "0", "80.00 %", *money]
    assert "<title>2025-03-10: 3</title>" in page
    assert "<title>2025-03-12: 1</title>" in page
    assert [entry.program for entry in response.context["report"].programs] == [shoes]


def test_the_overview_defaults_to_the_last_30_days(support_client):
    ProgramFactory()

    response = support_client.get(OVERVIEW_URL)

    today = timezone.now().date()
    report = response.context["report"]
    assert (report.start, report.end) == (today - timedelta(days=29), today)
    assert len(report.daily) == 30


def test_the_overview_explains_a_bad_period(support_client):
    response = support_client.get(OVERVIEW_URL, {"start": "2025-03-12", "end": "2025-03-10"})

    assert response.status_code == 200
    assert "To: The period ends before it starts." in response.content.decode()
    assert "report" not in response.context


def test_the_overview_runs_the_same_few_queries_for_any_amount_of_data(
    support_client, known_data, django_assert_max_num_queries
):
    # One of them asks how far the clicks are rolled up (ClickRollup), then reads ClickDay.
    with django_assert_max_num_queries(9):
        response = support_client.get(OVERVIEW_URL, {"start": "2025-03-01", "end": "2025-03-31"})

    assert response.status_code == 200
