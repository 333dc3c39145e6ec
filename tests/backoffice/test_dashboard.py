from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from clicks.models import ClickDay
from clicks.services import roll_up_click_days
from conversions.claims.services import decline_claim, file_claim
from conversions.dashboard import integration_health, operator_dashboard, percent_change
from conversions.models import Conversion, ConversionStatus
from tests.clicks.helpers import uuid7_at
from tests.conversions.claim_helpers import claim_payload
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db

# The current period is 8-14 March 2025; the previous one 1-7 March.
START, END = date(2025, 3, 8), date(2025, 3, 14)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def clicks(program, partner, moment, number=1, **fields):
    return [
        ClickFactory(
            program=program, partner=partner, created_at=moment, uuid=uuid7_at(moment), **fields
        )
        for _ in range(number)
    ]


@pytest.fixture
def known_data():
    """Shoes (SEK) and tents (NOK) for two partners over both periods, with bots and rows
    just outside them."""
    refunder, cashy = PartnerFactory(name="Refunder"), PartnerFactory(name="Cashy")
    shoes = ProgramFactory(name="Shoes SE", currency="SEK")
    tents = ProgramFactory(name="Tents NO", currency="NOK")
    click = clicks(shoes, refunder, at(START, 0), 8)[0]
    clicks(shoes, refunder, at(START), 3, is_bot=True)
    clicks(shoes, cashy, at(END, 23), 2)
    clicks(tents, cashy, at(END), 5)
    clicks(shoes, refunder, at(START - timedelta(days=1)), 4)  # previous period
    clicks(shoes, refunder, at(START - timedelta(days=7), 0), 1)  # its first hour
    clicks(shoes, refunder, at(START - timedelta(days=8), 23))  # before both
    clicks(shoes, refunder, at(END + timedelta(days=1), 0))  # after both

    def conversion(moment, **fields):
        return ConversionFactory(click=click, created_at=moment, **fields)

    conversion(at(START), order_sum=10000, vat_sum=2000, commission=800)
    conversion(at(END), status=ConversionStatus.APPROVED, order_sum=20001, commission=1600)
    conversion(at(END), status=ConversionStatus.REJECTED, order_sum=5000, commission=400)
    tent_click = clicks(tents, cashy, at(END - timedelta(days=30)))[0]
    ConversionFactory(
        click=tent_click, created_at=at(END), currency="NOK", order_sum=30000, commission=900
    )
    conversion(at(START - timedelta(days=2)), order_sum=8000, commission=500)
    conversion(at(END + timedelta(days=1)), commission=99999)
    return shoes, tents, refunder, cashy


def test_it_sums_the_period_and_the_one_before(known_data):
    dashboard = operator_dashboard(START, END)

    now, before = dashboard.total.current, dashboard.total.previous
    assert (dashboard.previous_start, dashboard.previous_end) == (
        date(2025, 3, 1),
        date(2025, 3, 7),
    )
    assert (now.clicks, now.bot_clicks, now.conversions) == (15, 3, 4)
    assert (before.clicks, before.bot_clicks, before.conversions) == (5, 0, 1)
    assert now.conversion_rate == Decimal("26.67")
    assert now.commission_in(ConversionStatus.PENDING) == {"NOK": 900, "SEK": 800}
    assert now.commission_in(ConversionStatus.APPROVED) == {"SEK": 1600}
    assert now.commission_in(ConversionStatus.REJECTED) == {"SEK": 400}
    # Rejected transactions leave the average: (10000 + 20001) / 2, rounded half up.
    assert now.average_order_value == {"NOK": 30000, "SEK": 15001}
    # Commission not rejected per counted click: 2400 / 15 = 160, 900 / 15 = 60.
    assert now.earnings_per_click == {"NOK": 60, "SEK": 160}
    assert dashboard.total.change("clicks") == Decimal("200.0")
    assert dashboard.total.change("conversions") == Decimal("300.0")


def test_it_shows_each_program_and_partner_busiest_first(known_data):
    shoes, tents, refunder, cashy = known_data

    dashboard = operator_dashboard(START, END)

    programs = [(row.label, row.current.clicks, row.previous.clicks) for row in dashboard.programs]
    assert programs == [("Shoes SE", 10, 5), ("Tents NO", 5, 0)]
    partners = [
        (row.label, row.current.clicks, row.current.conversions) for row in dashboard.partners
    ]
    assert partners == [("Refunder", 8, 3), ("Cashy", 7, 1)]
    assert dashboard.programs[0].narrowed_query == f"program={shoes.pk}"


def test_it_narrows_to_one_program_or_one_partner(known_data):
    shoes, tents, refunder, cashy = known_data

    for_tents = operator_dashboard(START, END, program=tents)
    for_cashy = operator_dashboard(START, END, partner=cashy)

    assert (for_tents.total.current.clicks, for_tents.total.current.conversions) == (5, 1)
    assert [row.label for row in for_tents.programs] == ["Tents NO"]
    assert (for_cashy.total.current.clicks, for_cashy.total.current.conversions) == (7, 1)


def test_its_daily_figures_cover_each_day_of_the_period(known_data):
    dashboard = operator_dashboard(START, END)

    assert list(dashboard.daily) == [START + timedelta(days=n) for n in range(7)]
    assert (dashboard.daily[START].clicks, dashboard.daily[START].conversions) == (8, 1)
    assert (dashboard.daily[END].clicks, dashboard.daily[END].conversions) == (7, 3)


def test_a_change_from_nothing_has_no_percentage():
    assert percent_change(5, 0) is None
    assert percent_change(None, 3) is None
    assert percent_change(3, 4) == Decimal("-25.0")


def test_integration_health_puts_programs_without_a_report_in_24_hours_first():
    now = timezone.now()
    quiet, fresh, silent = (ProgramFactory(name=name) for name in ("Quiet", "Fresh", "Silent"))
    ConversionFactory(click=ClickFactory(program=quiet), created_at=now - timedelta(hours=25))
    ConversionFactory(click=ClickFactory(program=fresh), created_at=now - timedelta(hours=23))
    ProgramFactory(name="Paused", status="paused")

    health = integration_health(now)

    assert [(item.program.name, item.is_quiet) for item in health] == [
        ("Quiet", True),
        ("Silent", True),
        ("Fresh", False),
    ]
    assert health[2].last_report == now - timedelta(hours=23)


def test_the_admin_home_shows_the_dashboard_with_figures_after_seed_demo(operator_client):
    call_command("seed_demo", stdout=StringIO())

    response = operator_client.get("/admin/")

    assert response.status_code == 200
    metrics = {metric.label: metric for metric in response.context["metrics"]}
    assert int(metrics["Clicks"].current) > 0
    assert int(metrics["Conversions"].current) > 0
    assert metrics["Commission approved (SEK)"].current != "0.00\u00a0SEK"
    page = response.content.decode()
    assert 'id="retrack-dashboard"' in page
    assert "Awesome Store SE (demo)" in page
    assert 'class="overview-chart"' in page
    assert "Integration health" in page
    assert 'id="content-main"' in page  # the admin's own app list stays below


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("", timedelta(days=29), timedelta(0)),
        ("?days=7", timedelta(days=6), timedelta(0)),
        ("?days=90", timedelta(days=89), timedelta(0)),
    ],
)
def test_the_admin_home_offers_the_last_7_30_or_90_days(operator_client, query, start, end):
    today = timezone.now().date()

    dashboard = operator_client.get(f"/admin/{query}").context["dashboard"]

    assert (dashboard.start, dashboard.end) == (today - start, today - end)


def test_the_admin_home_takes_a_chosen_range(operator_client):
    response = operator_client.get("/admin/?days=&start=2025-03-08&end=2025-03-14")

    dashboard = response.context["dashboard"]
    assert (dashboard.start, dashboard.end) == (START, END)
    assert (dashboard.previous_start, dashboard.previous_end) == (
        date(2025, 3, 1),
        date(2025, 3, 7),
    )


@pytest.mark.parametrize(
    "query",
    [
        "?days=&start=2025-03-14&end=2025-03-08",
        "?days=&start=2025-03-08",
        "?days=&start=2024-01-01&end=2025-03-08",
        "?days=12",
        "?days=&start=not-a-day&end=2025-03-08",
        "?program=999999",
    ],
)
def test_the_admin_home_refuses_a_bad_period_with_a_message_not_a_500(operator_client, query):
    response = operator_client.get(f"/admin/{query}")

    assert response.status_code == 200
    assert "dashboard" not in response.context
    assert response.context["dashboard_form"].errors
    assert 'class="errorlist"' in response.content.decode()


def test_a_user_without_conversions_sees_the_app_list_only(db, client):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="tom", password="x", is_staff=True)
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "dashboard_form" not in response.context
    assert Conversion.objects.count() == 0


def test_the_admin_home_asks_an_anonymous_visitor_to_log_in(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_each_row_links_to_the_dashboard_narrowed_to_it(operator_client, known_data):
    shoes, tents, refunder, cashy = known_data

    page = operator_client.get("/admin/?days=&start=2025-03-08&end=2025-03-14").content.decode()
    narrowed = operator_client.get(
        f"/admin/?days=&start=2025-03-08&end=2025-03-14&partner={cashy.pk}"
    )

    assert f'href="?days=&amp;start=2025-03-08&amp;end=2025-03-14&amp;program={tents.pk}"' in page
    assert narrowed.context["dashboard"].total.current.clicks == 7
    assert "Showing Cashy only." in narrowed.content.decode()


def test_it_reads_rolled_up_days_from_click_day_and_counts_the_later_ones_live(known_data):
    shoes, tents, refunder, cashy = known_data
    live = operator_dashboard(START, END)

    roll_up_click_days(now=at(START + timedelta(days=1)))  # through 8 March (START)
    rolled = operator_dashboard(START, END)
    ClickDay.objects.filter(day=START, program=shoes, partner=refunder).update(
        clicks=100, bot_clicks=50
    )
    from_the_rollup = operator_dashboard(START, END)

    assert (live.total.current.clicks, live.total.current.bot_clicks) == (15, 3)
    assert (rolled.total.current.clicks, rolled.total.current.bot_clicks) == (15, 3)
    assert (rolled.total.previous.clicks, rolled.total.previous.bot_clicks) == (5, 0)
    assert from_the_rollup.total.current.clicks == 107
    assert from_the_rollup.total.current.bot_clicks == 50
    assert from_the_rollup.daily[START].clicks == 100
    assert from_the_rollup.daily[END].clicks == 7  # after the rolled-up days: counted live


def test_the_admin_home_counts_the_open_claims_of_the_selection(operator_client):
    click = ClickFactory(created_at=timezone.now() - timedelta(days=2))
    other = ClickFactory(created_at=timezone.now() - timedelta(days=2))
    file_claim(click.partner, claim_payload(click))
    decided = file_claim(other.partner, claim_payload(other)).claim
    file_claim(other.partner, claim_payload(other, orderNumber="692549564"))
    decline_claim(decided, "No such order.", actor="operator:test")

    everything = operator_client.get("/admin/?days=7")
    narrowed = operator_client.get(f"/admin/?days=7&partner={click.partner.pk}")

    def claims(response) -> list:
        return [
            (item.count, item.url)
            for item in response.context["attention"]
            if item.label == "Open claims"
        ]

    assert claims(everything) == [(2, "/admin/conversions/claim/")]
    assert 'href="/admin/conversions/claim/">2</a>' in everything.content.decode()
    query = f"?partner__id__exact={click.partner.pk}"
    assert claims(narrowed) == [(1, f"/admin/conversions/claim/{query}")]


def test_it_leaves_test_conversions_out(known_data):
    shoes, tents, refunder, cashy = known_data
    before = operator_dashboard(START, END).total.current.conversions
    ConversionFactory(
        click=ClickFactory(program=shoes, created_at=at(START)), created_at=at(END), test=True
    )

    assert operator_dashboard(START, END).total.current.conversions == before == 4
