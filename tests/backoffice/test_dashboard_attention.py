"""The dashboard's counts of what waits for an operator (conversions needing review, open
claims, each linked to its list) and its integration health from the report log."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from conversions.dashboard import count_needing_review, integration_health
from conversions.models import ConversionFlag, ConversionStatus, ReportLogEntry
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def _flagged(**fields):
    conversion = ConversionFactory(**fields)
    ConversionFlag.objects.create(conversion=conversion, code="too_fast", reason="2 s")
    return conversion


def _entry(program, minutes_ago: int, outcome: str = "created", **fields) -> ReportLogEntry:
    return ReportLogEntry.objects.create(
        source="api",
        kind="transaction",
        outcome=outcome,
        code="invalid" if outcome == "refused" else None,
        status_code=422 if outcome == "refused" else 201,
        store_id=program.store_id,
        program=program,
        payload="{}",
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def test_it_counts_the_real_pending_conversions_an_open_flag_holds():
    program, partner = ProgramFactory(), PartnerFactory()
    _flagged(click=ClickFactory(program=program, partner=partner))
    _flagged(click=ClickFactory(program=program))
    _flagged(click=ClickFactory(partner=partner))
    _flagged(test=True)
    _flagged(status=ConversionStatus.REJECTED)
    cleared = _flagged()
    ConversionFlag.objects.filter(conversion=cleared).update(
        cleared_at=timezone.now(), cleared_by="operator:olivia"
    )
    ConversionFactory()

    assert count_needing_review() == 3
    assert count_needing_review(program=program) == 2
    assert count_needing_review(partner=partner) == 2
    assert count_needing_review(program=program, partner=partner) == 1


def test_the_admin_home_links_the_counts_to_their_lists(operator_client):
    program = ProgramFactory()
    _flagged(click=ClickFactory(program=program))
    _flagged()

    everything = operator_client.get("/admin/?days=7")
    narrowed = operator_client.get(f"/admin/?days=7&program={program.pk}")

    assert [(item.label, item.count, item.url) for item in everything.context["attention"]] == [
        ("Conversions needing review", 2, "/admin/conversions/conversionforreview/"),
        ("Open claims", 0, "/admin/conversions/claim/"),
    ]
    query = f"?program__id__exact={program.pk}"
    assert [(item.count, item.url) for item in narrowed.context["attention"]] == [
        (1, f"/admin/conversions/conversionforreview/{query}"),
        (0, f"/admin/conversions/claim/{query}"),
    ]
    page = everything.content.decode()
    assert 'href="/admin/conversions/conversionforreview/">2</a>' in page


def test_the_review_list_behind_the_link_shows_as_many_as_counted(operator_client):
    _flagged()
    _flagged(test=True)

    home = operator_client.get("/admin/?days=7").context["attention"][0]
    listed = operator_client.get(home.url).context["cl"].result_list

    assert len(listed) == home.count == 1


def test_integration_health_counts_the_days_reports_and_refusals_per_program():
    now = timezone.now()
    busy, broken, quiet = (ProgramFactory(name=name) for name in ("Busy", "Broken", "Quiet"))
    for minutes in (5, 50, 500):
        _entry(busy, minutes)
    _entry(busy, 30, outcome="refused")
    _entry(busy, 60 * 25, outcome="refused")  # yesterday: not counted
    _entry(broken, 10, outcome="refused")
    _entry(quiet, 60 * 30)
    ReportLogEntry.objects.create(
        source="script", outcome="refused", code="invalid", status_code=400, payload="x"
    )

    health = {item.program.name: item for item in integration_health(now)}

    assert [name for name in health] == ["Quiet", "Broken", "Busy"]
    assert (health["Busy"].reports, health["Busy"].refused) == (4, 1)
    assert health["Busy"].refusal_rate == Decimal("25.00")
    assert (health["Broken"].reports, health["Broken"].refused) == (1, 1)
    assert health["Broken"].refusal_rate == Decimal("100.00")
    assert (health["Quiet"].reports, health["Quiet"].refusal_rate, health["Quiet"].is_quiet) == (
        0,
        None,
        True,
    )
    assert health["Broken"].is_quiet is False


def test_integration_health_takes_the_later_of_the_latest_report_and_conversion():
    now = timezone.now()
    logged, recorded = ProgramFactory(name="Logged"), ProgramFactory(name="Recorded")
    entry = _entry(logged, 10)
    ConversionFactory(click=ClickFactory(program=logged), created_at=now - timedelta(hours=3))
    ConversionFactory(click=ClickFactory(program=recorded), created_at=now - timedelta(hours=2))

    health = {item.program.name: item.last_report for item in integration_health(now)}

    assert health == {"Logged": entry.received_at, "Recorded": now - timedelta(hours=2)}


def test_the_admin_home_shows_the_refusals_of_the_day(operator_client):
    program = ProgramFactory(name="Broken SE")
    _entry(program, 10)
    _entry(program, 20, outcome="refused")

    page = operator_client.get("/admin/?days=7").content.decode()

    assert f'href="/admin/stores/program/{program.pk}/change/#report-log">1</a> (50.00 %)' in page
    assert "reporting, some refused" in page


def test_a_flagged_conversions_page_says_it_is_held_not_decided(support_client):
    conversion = _flagged()

    page = support_client.get(f"/admin/conversions/conversion/{conversion.pk}/change/")

    text = page.content.decode()
    assert "— held for review: not approved automatically while a flag is open" in text
    assert "— (decided)" not in text
