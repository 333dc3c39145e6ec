"""Storing what the browser tag reports, through the store API's own service.

A report is stored only if it names an existing click, comes from a page on one of the
click's program's allowed domains and passes the store API's validation; it is then
stored by the very same service as the store API, so the tag and the store's server
reporting one order store one conversion.
"""

from clicks.models import Click
from conversions.models import Conversion, ConversionSource
from conversions.services import ConversionRefused, record_conversion
from conversions.tag.parsing import TagRefused, TagReport, check_page_origin
from retrack.lib.database import once_more_on_a_fresh_connection


def record_tag_report(report: TagReport, *, origin: str | None) -> Conversion:
    """Store a tag report through the store API's service, or raise TagRefused.

    A connection that died since the worker's last request (a database restart) is
    replaced and the report recorded on the new one: the browser never sends it again.
    """
    return once_more_on_a_fresh_connection(_record, report, origin, writing=Conversion)


def _record(report: TagReport, origin: str | None) -> Conversion:
    click = Click.objects.select_related("program").filter(pk=report.click).first()
    if click is None:
        raise TagRefused(f"click {report.click} does not exist")
    check_page_origin(click.program.allowed_domains, origin)
    try:
        recorded = record_conversion(
            report.kind, report.payload, source=ConversionSource.SCRIPT, store=None
        )
    except ConversionRefused as refusal:
        # The code and the fields' repr only: field names are the browser's, and repr
        # keeps a line break in one from forging a log line.
        raise TagRefused(
            f"{report.kind} on click {report.click} refused: {refusal.code} {refusal.fields!r}"
        ) from None
    return recorded.conversion
