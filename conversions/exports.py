"""CSV export of conversions, streamed row by row so a long list never sits in memory."""

import csv
import re
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from conversions.models import Conversion
from retrack.audit.models import AuditAction
from retrack.audit.services import operator_actor, record_audit_event

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

# Store- and partner-supplied text (order numbers, refs, names, reasons) must never run as
# a formula, whichever character the spreadsheet splits cells on: ",", or ";" (the list
# separator of Swedish and most European Excels, which then splits "X;=1+1;Y" inside one
# quoted cell), or a tab. So a "'" goes before every =, +, -, @, tab or CR that starts the
# cell or follows one of those separators, a line break or a double quote (spaces between
# them included): every piece any of these splits produces then starts with "'" and is
# read as text (OWASP, CSV injection).
_FORMULA_START = re.compile(r"""(?:^|(?<=[,;\t\r\n"]))(?=[ ]*[=+\-@\t\r])""")


def neutralise_formulas(value: str | None) -> str:
    """The text with a "'" before anything a spreadsheet could run as a formula."""
    return _FORMULA_START.sub("'", value or "")


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
            neutralise_formulas(conversion.status_reason),
            neutralise_formulas(conversion.program.store.name),
            neutralise_formulas(conversion.program.name),
            neutralise_formulas(conversion.partner.name),
            neutralise_formulas(conversion.event.name),
            neutralise_formulas(conversion.order_number),
            neutralise_formulas(conversion.reference),
            conversion.order_sum,
            conversion.vat_sum,
            conversion.commission,
            conversion.currency,
            conversion.source,
            str(conversion.click_id),
            neutralise_formulas(conversion.click.ref),
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


def csv_download(request, queryset, scope: dict) -> StreamingHttpResponse:
    """The conversions as a streamed CSV file; the export is recorded in the audit first."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    record_audit_event(
        AuditAction.CSV_EXPORTED,
        actor=operator_actor(request.user),
        target="conversions",
        details={**scope, "file": f"conversions-{stamp}.csv"},
    )
    response = StreamingHttpResponse(
        csv_lines(conversion_csv_rows(queryset)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="conversions-{stamp}.csv"'
    return response
