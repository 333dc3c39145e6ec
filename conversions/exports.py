"""CSV export of conversions, streamed row by row so a long list never sits in memory."""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from conversions.models import Conversion

CSV_HEADER = [
    "uuid",
    "kind",
    "status",
    "status_reason",
    "store",
    "program",
    "partner",
    "event",
    "order_number",
    "reference",
    "order_sum",
    "vat_sum",
    "commission",
    "currency",
    "source",
    "click_uuid",
    "click_ref",
    "created_at",
    "updated_at",
]

# A cell starting with one of these is a formula to a spreadsheet; store- and partner-supplied
# text (order numbers, refs, reasons) is prefixed with an apostrophe so it stays text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    value = value or ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def conversion_csv_rows(conversions: QuerySet[Conversion]) -> Iterator[list]:
    """The header, then one row per conversion; money in integer minor units with its currency."""
    yield CSV_HEADER
    rows = conversions.select_related("program__store", "partner", "event", "click")
    for conversion in rows.iterator(chunk_size=2000):
        yield [
            str(conversion.uuid),
            conversion.kind,
            conversion.status,
            _text(conversion.status_reason),
            _text(conversion.program.store.name),
            _text(conversion.program.name),
            _text(conversion.partner.name),
            _text(conversion.event.name),
            _text(conversion.order_number),
            _text(conversion.reference),
            conversion.order_sum,
            conversion.vat_sum,
            conversion.commission,
            conversion.currency,
            conversion.source,
            str(conversion.click_id),
            _text(conversion.click.ref),
            _iso(conversion.created_at),
            _iso(conversion.updated_at),
        ]


class _Echo:
    """A file-like object whose write() hands back the line: csv.writer then yields lines."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
