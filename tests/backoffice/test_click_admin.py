from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clicks.models import Click
from retrack.admin.pages import CappedCountPaginator
from tests.backoffice.helpers import listed
from tests.clicks.helpers import uuid7_at
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/clicks/click/"


def click_at(moment: datetime, **fields) -> Click:
    return ClickFactory(uuid=uuid7_at(moment), created_at=moment, **fields)


def test_it_finds_a_click_by_its_exact_uuid(support_client):
    wanted = ClickFactory()
    ClickFactory()

    assert listed(support_client.get(LIST_URL, {"q": str(wanted.uuid)})) == [wanted]
    assert listed(support_client.get(LIST_URL, {"q": str(wanted.uuid)[:8]})) == []


def test_it_finds_clicks_by_their_ref_or_its_beginning(support_client):
    first = ClickFactory(ref="rf-38315327")
    second = ClickFactory(ref="rf-38315327")
    longer = ClickFactory(ref="rf-38315327-2")
    ClickFactory(ref="rf-4")

    found = listed(support_client.get(LIST_URL, {"q": " rf-38315327 "}))
    by_prefix = listed(support_client.get(LIST_URL, {"q": "rf-3831"}))

    assert {click.pk for click in found} == {first.pk, second.pk, longer.pk}
    assert {click.pk for click in by_prefix} == {first.pk, second.pk, longer.pk}
    assert listed(support_client.get(LIST_URL, {"q": "38315327"})) == []  # not the middle
    if connection.vendor == "postgresql":  # SQLite's LIKE ignores the case of ASCII
        assert listed(support_client.get(LIST_URL, {"q": "RF-3831"})) == []


def test_it_filters_by_program_partner_bot_flag_and_country(support_client):
    program, other_program = ProgramFactory(), ProgramFactory()
    partner = PartnerFactory()
    wanted = ClickFactory(program=program, partner=partner, country="SE")
    ClickFactory(program=program, partner=partner, country="NO")
    ClickFactory(program=program, partner=partner, country="SE", is_bot=True)
    ClickFactory(program=program, country="SE")
    ClickFactory(program=other_program, partner=partner, country="SE")

    found = listed(
        support_client.get(
            LIST_URL,
            {
                "program__id__exact": program.pk,
                "partner__id__exact": partner.pk,
                "is_bot__exact": "0",
                "country": "se",
            },
        )
    )

    assert found == [wanted]


def test_it_filters_by_creation_day_in_utc_both_days_included(support_client):
    before = click_at(datetime(2025, 3, 9, 23, 59, 59, tzinfo=UTC))
    first = click_at(datetime(2025, 3, 10, 0, 0, 0, tzinfo=UTC))
    last = click_at(datetime(2025, 3, 12, 23, 59, 59, tzinfo=UTC))
    after = click_at(datetime(2025, 3, 13, 0, 0, 0, tzinfo=UTC))

    with CaptureQueriesContext(connection) as queries:
        found = listed(
            support_client.get(LIST_URL, {"created_from": "2025-03-10", "created_to": "2025-03-12"})
        )
    listing = [query["sql"] for query in queries if "ORDER BY" in query["sql"]][-1]
    since = listed(support_client.get(LIST_URL, {"created_from": "2025-03-12"}))

    assert found == [last, first]
    assert since == [after, last]
    assert before not in since
    # The day range is also a range on the primary key, which is what the index serves.
    assert '"clicks_click"."uuid" >=' in listing
    assert '"clicks_click"."uuid" <' in listing


def test_it_says_so_and_does_not_filter_when_a_date_is_not_a_date(support_client):
    click = ClickFactory()

    response = support_client.get(LIST_URL, {"created_from": "10/03/2025"})

    assert listed(response) == [click]
    assert (
        "From (YYYY-MM-DD): &#x27;10/03/2025&#x27; is not a date like 2025-01-31. "
        "The filter was not applied." in response.content.decode()
    )


def test_the_list_never_counts_the_whole_table(support_client):
    ClickFactory.create_batch(3)

    with CaptureQueriesContext(connection) as queries:
        response = support_client.get(LIST_URL)

    assert len(listed(response)) == 3
    counts = [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 10001" in counts[0].upper()


def test_the_list_says_when_there_are_more_clicks_than_it_counts(support_client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 20)
    ClickFactory.create_batch(21)

    response = support_client.get(LIST_URL)

    assert response.context["cl"].result_count == 20
    assert "More than 20 clicks: narrow the list with a filter or a search." in (
        response.content.decode()
    )


def test_a_click_page_links_its_conversions(support_client):
    click = ClickFactory()
    conversion = ConversionFactory(click=click, order_number="692549563")

    response = support_client.get(f"/admin/clicks/click/{click.pk}/change/")

    assert (
        f'<a href="/admin/conversions/conversion/{conversion.pk}/change/">Transaction 692549563</a>'
        in response.content.decode()
    )


def test_clicks_are_read_only_even_for_an_operator(operator_client):
    click = ClickFactory(ref="before")

    change = operator_client.post(f"/admin/clicks/click/{click.pk}/change/", {"ref": "after"})
    delete = operator_client.post(f"/admin/clicks/click/{click.pk}/delete/", {"post": "yes"})
    add = operator_client.get("/admin/clicks/click/add/")

    assert (change.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    click.refresh_from_db()
    assert click.ref == "before"
