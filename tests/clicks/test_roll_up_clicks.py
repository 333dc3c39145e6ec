"""The daily click rollup the partner stats read: finished days, bots apart, re-runnable."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from clicks.models import ClickDay, ClickRollup
from clicks.services import roll_up_click_days
from conversions.reports import partner_daily_stats
from tests.clicks.helpers import uuid7_at
from tests.factories import AdmissionFactory, ClickFactory, PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def _click(partner, program, moment: datetime, **fields):
    return ClickFactory(
        partner=partner, program=program, uuid=uuid7_at(moment), created_at=moment, **fields
    )


@pytest.fixture
def traffic():
    partner = PartnerFactory()
    program = ProgramFactory()
    AdmissionFactory(partner=partner, program=program)
    at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    _click(partner, program, at)
    _click(partner, program, at + timedelta(hours=14, minutes=59))
    _click(partner, program, at + timedelta(hours=1), is_bot=True)
    _click(partner, program, at + timedelta(days=1))
    _click(partner, program, NOW - timedelta(hours=1))  # today: not finished
    return partner, program


def test_it_counts_each_finished_day_per_partner_and_program_without_bots(traffic):
    partner, program = traffic

    rolled = roll_up_click_days(now=NOW)

    assert rolled == 2
    rows = ClickDay.objects.values_list("partner_id", "program_id", "day", "clicks", "bot_clicks")
    assert sorted(rows) == [
        (partner.pk, program.pk, DAY, 2, 1),
        (partner.pk, program.pk, DAY + timedelta(days=1), 1, 0),
    ]
    assert ClickRollup.objects.get().last_day == DAY + timedelta(days=1)


def test_a_second_run_rolls_up_nothing_new(traffic):
    roll_up_click_days(now=NOW)
    before = sorted(ClickDay.objects.values_list("day", "clicks"))

    assert roll_up_click_days(now=NOW) == 0
    assert sorted(ClickDay.objects.values_list("day", "clicks")) == before


def test_a_day_is_rolled_up_only_once_it_has_ended_and_settled():
    _click(PartnerFactory(), ProgramFactory(), datetime(2026, 11, 21, 23, 59, tzinfo=UTC))

    assert roll_up_click_days(now=datetime(2026, 11, 22, 0, 5, tzinfo=UTC)) == 0
    assert roll_up_click_days(now=datetime(2026, 11, 22, 0, 15, tzinfo=UTC)) == 1


def test_the_stats_read_the_rollup_for_rolled_days_and_count_the_rest(traffic):
    partner, program = traffic
    live = partner_daily_stats(partner.pk, [program], DAY, DAY + timedelta(days=2))

    roll_up_click_days(now=NOW)
    rolled = partner_daily_stats(partner.pk, [program], DAY, DAY + timedelta(days=2))
    ClickDay.objects.filter(day=DAY).update(clicks=7)
    from_the_rollup = partner_daily_stats(partner.pk, [program], DAY, DAY + timedelta(days=2))

    assert [row.clicks for row in live] == [2, 1, 1]
    assert [row.clicks for row in rolled] == [2, 1, 1]
    assert [row.clicks for row in from_the_rollup] == [7, 1, 1]


def test_the_command_says_how_many_days_it_rolled_up():
    out = StringIO()

    call_command("roll_up_clicks", stdout=out)

    assert out.getvalue() == "Rolled up 0 day(s) of clicks.\n"
