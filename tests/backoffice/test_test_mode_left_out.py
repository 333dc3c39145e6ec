"""Test conversions and test clicks (contract section 8) are left out of the back office's
figures, the partner stats and the exports unless asked for: the conversion lists and the
export take "Test: yes" or "Test: all"."""

from datetime import UTC, date, datetime, timedelta

import pytest

from clicks.services import roll_up_click_days
from conversions.dashboard import operator_dashboard
from conversions.models import ConversionFlag
from conversions.reports import partner_daily_stats, program_daily_report
from partners.services import integration_test_partner
from retrack.audit.models import AuditEvent
from tests.backoffice.test_csv_export import EXPORT_URL, read_csv
from tests.clicks.helpers import uuid7_at
from tests.factories import AdmissionFactory, ClickFactory, ConversionFactory, ProgramFactory
from tests.partners.helpers import client_for

pytestmark = pytest.mark.django_db

DAY = date(2025, 3, 10)
AT = datetime(2025, 3, 10, 12, tzinfo=UTC)
LIST_URL = "/admin/conversions/conversion/"
REVIEW_URL = "/admin/conversions/conversionforreview/"


def _click(program, partner, **fields):
    return ClickFactory(
        program=program, partner=partner, uuid=uuid7_at(AT), created_at=AT, **fields
    )


@pytest.fixture
def tested():
    """On 10 March 2025: a partner's 3 real clicks and 2 conversions; 4 test clicks of the
    integration test partner and 2 test conversions on them."""
    program = ProgramFactory(name="Awesome Store SE")
    partner = AdmissionFactory(program=program).partner
    real = [_click(program, partner) for _ in range(3)]
    tests = [_click(program, integration_test_partner(), test=True) for _ in range(4)]
    conversions = [ConversionFactory(click=real[0], created_at=AT) for _ in range(2)]
    test_conversions = [ConversionFactory(click=tests[0], created_at=AT, test=True) for _ in "ab"]
    return program, partner, conversions, test_conversions


def test_the_overview_leaves_test_clicks_and_conversions_out(tested):
    program, *_ = tested

    report = program_daily_report([program], DAY, DAY)

    assert (report.daily[DAY].clicks, report.daily[DAY].conversions) == (3, 2)


@pytest.mark.parametrize("rolled_up", [False, True])
def test_the_dashboard_leaves_test_clicks_and_conversions_out(tested, rolled_up):
    if rolled_up:
        roll_up_click_days(now=AT + timedelta(days=1))

    dashboard = operator_dashboard(DAY, DAY)

    figures = dashboard.total.current
    assert (figures.clicks, figures.bot_clicks, figures.conversions) == (3, 0, 2)
    assert [row.label for row in dashboard.partners] == [str(tested[1])]


def test_the_partner_stats_leave_test_clicks_and_conversions_out(tested):
    program, partner, *_ = tested
    # Even if an operator admits the integration test partner, only its real clicks count.
    tester = integration_test_partner()
    AdmissionFactory(program=program, partner=tester)
    _click(program, tester)

    mine = partner_daily_stats(partner.pk, [program], DAY, DAY)
    testers = client_for(tester).get("/api/v2/partner/stats", {"from": DAY, "to": DAY}).json()

    assert [(row.clicks, row.conversions) for row in mine] == [(3, 2)]
    assert [(row["clicks"], row["conversions"]) for row in testers["data"]] == [(1, 0)]


def test_a_real_partners_stats_leave_a_test_conversion_out():
    program = ProgramFactory()
    partner = AdmissionFactory(program=program).partner
    click = _click(program, partner)
    ConversionFactory(click=click, created_at=AT)
    ConversionFactory(click=click, created_at=AT, test=True)

    rows = partner_daily_stats(partner.pk, [program], DAY, DAY)

    assert [(row.clicks, row.conversions) for row in rows] == [(1, 1)]


def _listed(response) -> set:
    assert response.status_code == 200
    return {conversion.pk for conversion in response.context["cl"].result_list}


def test_the_conversion_list_shows_real_orders_unless_asked(support_client, tested):
    _, _, conversions, test_conversions = tested
    real = {conversion.pk for conversion in conversions}
    tests = {conversion.pk for conversion in test_conversions}

    by_default = support_client.get(LIST_URL)
    only_tests = support_client.get(LIST_URL, {"test": "yes"})

    assert _listed(by_default) == real
    assert _listed(support_client.get(LIST_URL, {"test": "no"})) == real
    assert _listed(only_tests) == tests
    assert _listed(support_client.get(LIST_URL, {"test": "all"})) == real | tests
    assert "No: real orders" in by_default.content.decode()
    assert 'href="?test=yes"' in by_default.content.decode()


def test_the_conversion_list_refuses_an_unknown_test_value(support_client, tested):
    response = support_client.get(LIST_URL, {"test": "maybe"})

    assert response.status_code == 302
    assert response["Location"] == f"{LIST_URL}?e=1"


def test_the_export_follows_the_lists_test_filter(support_client, tested):
    _, _, conversions, test_conversions = tested

    by_default = read_csv(support_client.get(EXPORT_URL))
    only_tests = read_csv(support_client.get(EXPORT_URL, {"test": "yes"}))
    everything = read_csv(support_client.get(EXPORT_URL, {"test": "all"}))

    assert sorted(row[0] for row in by_default[1:]) == sorted(str(c.uuid) for c in conversions)
    assert sorted(row[0] for row in only_tests[1:]) == sorted(str(c.uuid) for c in test_conversions)
    assert len(everything) == 1 + 4


def test_the_export_refuses_an_unknown_test_value_and_exports_nothing(support_client, tested):
    response = support_client.get(EXPORT_URL, {"test": "maybe"}, follow=True)

    assert response.redirect_chain == [(LIST_URL, 302)]
    assert [str(message) for message in response.context["messages"]] == [
        "The list's filters are not valid; nothing was exported."
    ]
    assert not AuditEvent.objects.exists()


def test_the_review_list_shows_flagged_real_orders_unless_asked(support_client, tested):
    _, _, conversions, test_conversions = tested
    for conversion in (conversions[0], test_conversions[0]):
        ConversionFlag.objects.create(conversion=conversion, code="too_fast", reason="2 s")

    assert _listed(support_client.get(REVIEW_URL)) == {conversions[0].pk}
    assert _listed(support_client.get(REVIEW_URL, {"test": "yes"})) == {test_conversions[0].pk}
