import csv
import io
from datetime import UTC, datetime

import pytest

from conversions.exports import CSV_HEADER
from conversions.models import ConversionSource, ConversionStatus
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db

EXPORT_URL = "/admin/conversions/conversion/export/"


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="conversions-')
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_it_exports_the_filtered_list_with_money_in_minor_units(support_client):
    # given
    program = ProgramFactory(name="Awesome Store SE", store__name="Awesome Store", currency="SEK")
    click = ClickFactory(program=program, partner=PartnerFactory(name="Refunder SE"), ref="r-9")
    moment = datetime(2025, 3, 10, 12, 30, tzinfo=UTC)
    wanted = ConversionFactory(
        click=click,
        event__name="Shoes",
        order_number="692549563",
        order_sum=162500,
        vat_sum=32500,
        commission=10400,
        source=ConversionSource.SCRIPT,
        created_at=moment,
        updated_at=moment,
    )
    ConversionFactory(click=click, status=ConversionStatus.APPROVED)
    ConversionFactory(status=ConversionStatus.PENDING)

    # when
    rows = read_csv(
        support_client.get(
            EXPORT_URL, {"status__exact": "pending", "program__id__exact": program.pk}
        )
    )

    # then
    assert rows == [
        CSV_HEADER,
        [
            str(wanted.uuid),
            "transaction",
            "pending",
            "",
            "Awesome Store",
            "Awesome Store SE",
            "Refunder SE",
            "Shoes",
            "692549563",
            "",
            "162500",
            "32500",
            "10400",
            "SEK",
            "script",
            str(click.uuid),
            "r-9",
            "2025-03-10T12:30:00Z",
            "2025-03-10T12:30:00Z",
        ],
    ]


def test_it_exports_what_a_search_found(support_client):
    wanted = ConversionFactory(order_number="692549563")
    ConversionFactory(order_number="692549564")

    rows = read_csv(support_client.get(EXPORT_URL, {"q": "692549563"}))

    assert [row[0] for row in rows[1:]] == [str(wanted.uuid)]


def test_it_exports_the_selected_conversions_with_the_action(support_client):
    first, second = ConversionFactory(), ConversionFactory()
    ConversionFactory()

    response = support_client.post(
        "/admin/conversions/conversion/",
        {"action": "export_csv", "index": "0", "_selected_action": [first.pk, second.pk]},
    )

    assert {row[0] for row in read_csv(response)[1:]} == {str(first.uuid), str(second.uuid)}


def test_text_that_a_spreadsheet_would_run_as_a_formula_stays_text(support_client):
    ConversionFactory(order_number='=HYPERLINK("http://evil.example","x")', click__ref="+1-ref")

    rows = read_csv(support_client.get(EXPORT_URL))

    assert rows[1][CSV_HEADER.index("order_number")] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[1][CSV_HEADER.index("click_ref")] == "'+1-ref"
