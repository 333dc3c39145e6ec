"""Test clicks (POST /api/v2/test-clicks) are no figure: counts and the daily roll-up leave
them out, and the roll-up's days from before that rule are recounted by a migration."""

import importlib
from datetime import UTC, date, datetime

import pytest
from django.apps import apps

from clicks.models import ClickDay, ClickRollup
from clicks.selectors import count_clicks, daily_click_rows
from clicks.services import make_test_click, roll_up_click_days
from partners.services import integration_test_partner
from tests.clicks.helpers import uuid7_at
from tests.factories import AdmissionFactory, ClickFactory, ProgramFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def _click(program, partner, moment: datetime, **fields):
    return ClickFactory(
        program=program, partner=partner, uuid=uuid7_at(moment), created_at=moment, **fields
    )


@pytest.fixture
def tested_program():
    """On the 20th: two real clicks of a partner, one bot; three test clicks (one a bot)
    and, since the tester partner was admitted too, one real click of it."""
    program = ProgramFactory()
    partner = AdmissionFactory(program=program).partner
    tester = integration_test_partner()
    at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    _click(program, partner, at)
    _click(program, partner, at)
    _click(program, partner, at, is_bot=True)
    _click(program, tester, at, test=True)
    _click(program, tester, at, test=True)
    _click(program, tester, at, test=True, is_bot=True)
    _click(program, tester, at)
    return program, partner, tester


def test_count_clicks_leaves_test_clicks_out():
    program = ProgramFactory()
    ClickFactory(program=program)
    make_test_click(program)
    make_test_click(program)

    assert count_clicks() == 1
    assert count_clicks(program=program) == 1
    assert count_clicks(partner=integration_test_partner()) == 0


def test_the_roll_up_leaves_test_clicks_out(tested_program):
    program, partner, tester = tested_program

    roll_up_click_days(now=NOW)

    rows = ClickDay.objects.values_list("partner_id", "day", "clicks", "bot_clicks")
    assert sorted(rows) == sorted([(partner.pk, DAY, 2, 1), (tester.pk, DAY, 1, 0)])


def test_the_roll_up_writes_no_row_for_a_day_of_test_clicks_only():
    program = ProgramFactory()
    _click(program, integration_test_partner(), datetime(2026, 11, 21, 9, tzinfo=UTC), test=True)

    assert roll_up_click_days(now=NOW) == 1
    assert ClickDay.objects.count() == 0


def test_the_live_daily_rows_leave_test_clicks_out(tested_program):
    program, partner, tester = tested_program

    rows = daily_click_rows(DAY, DAY)

    counted = sorted((row["partner_id"], row["clicks"], row["bot_clicks"]) for row in rows)
    assert counted == sorted([(partner.pk, 2, 1), (tester.pk, 1, 0)])


def test_the_migration_recounts_the_test_partners_rolled_up_days(tested_program):
    program, partner, tester = tested_program
    other_program = ProgramFactory()
    # As the roll-up wrote them before test clicks were left out.
    ClickDay.objects.create(partner=partner, program=program, day=DAY, clicks=2, bot_clicks=1)
    ClickDay.objects.create(partner=tester, program=program, day=DAY, clicks=3, bot_clicks=1)
    ClickDay.objects.create(partner=tester, program=other_program, day=DAY, clicks=4, bot_clicks=0)
    ClickRollup.objects.create(pk=1, last_day=DAY)
    migration = importlib.import_module("clicks.migrations.0009_click_day_without_test_clicks")

    migration.recount_the_test_partners_days(apps, None)

    rows = ClickDay.objects.values_list("partner_id", "program_id", "clicks", "bot_clicks")
    assert sorted(rows) == sorted([(partner.pk, program.pk, 2, 1), (tester.pk, program.pk, 1, 0)])
    assert ClickRollup.objects.get().last_day == DAY
