import csv
import io
import re
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


@pytest.mark.parametrize(
    ("order_number", "cell"),
    [
        ("X;=1+1;Y", "X;'=1+1;Y"),
        ("X,=1+1,Y", "X,'=1+1,Y"),
        ("X\t=1+1", "X\t'=1+1"),
        ("X; =1+1", "X;' =1+1"),
        ('X;"=1+1"', 'X;"\'=1+1"'),
        ("X;\t@SUM(A1)", "X;'\t'@SUM(A1)"),
        ("X\n-2+3", "X\n'-2+3"),
        ("\t=1+1", "'\t'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-5", "'-5"),
        ("A-123+4=5", "A-123+4=5"),
        ("Shoes, size 42", "Shoes, size 42"),
    ],
)
def test_it_neutralises_a_formula_after_any_separator_in_a_text_cell(
    support_client, order_number, cell
):
    ConversionFactory(order_number=order_number)

    rows = read_csv(support_client.get(EXPORT_URL))

    assert rows[1][CSV_HEADER.index("order_number")] == cell


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_no_cell_starts_a_formula_whichever_separator_a_spreadsheet_splits_on(
    support_client, separator
):
    # given hostile text in every text column a store or partner controls
    hostile = 'a;=1+1,"+2"\t-3\n@4; =5'
    click = ClickFactory(
        ref=hostile, program__name=hostile, program__store__name=hostile, partner__name=hostile
    )
    ConversionFactory(click=click, order_number=hostile, event__name=hostile, status_reason=hostile)

    # when the export is read naively: split into lines, then cells on the separator
    response = support_client.get(EXPORT_URL)
    text = b"".join(response.streaming_content).decode()
    cells = [
        cell.lstrip(' "') for line in re.split(r"[\r\n]+", text) for cell in line.split(separator)
    ]

    # then none of them is a formula
    assert [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t"))] == []
    assert sum(cell.startswith("'") for cell in cells) >= 6
