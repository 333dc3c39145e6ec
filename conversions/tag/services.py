"""Storing what the browser tag reports, through the store API's own service.

A report is stored only if it names an existing click, comes from a page on one of the
click's program's allowed domains and passes the store API's validation; it is then
stored by the very same service as the store API, so the tag and the store's server
reporting one order store one conversion. Whatever became of it, the caller gets a
`ReportVerdict` for the report log.
"""

from clicks.models import Click
from conversions.models import Conversion, ConversionSource, ReportOutcome
from conversions.services import ConversionRefused, record_conversion
from conversions.services.report_log import ReportVerdict
from conversions.tag.parsing import TagRefused, TagReport, check_page_origin
from retrack.lib.database import once_more_on_a_fresh_connection


def record_tag_report(
    report: TagReport, *, origin: str | None, source: ConversionSource
) -> ReportVerdict:
    """Store a tag report through the store API's service; what became of it.

    A connection that died since the worker's last request (a database restart) is
    replaced and the report recorded on the new one: the browser never sends it again.
    """
    return once_more_on_a_fresh_connection(_record, report, origin, source, writing=Conversion)


def _record(report: TagReport, origin: str | None, source: ConversionSource) -> ReportVerdict:
    click = Click.objects.select_related("program").filter(pk=report.click).first()
    if click is None:
        message = f"The click {report.click} does not exist."
        return ReportVerdict(ReportOutcome.REFUSED, 422, "click_not_found", message)
    program = click.program
    try:
        check_page_origin(program.allowed_domains, origin)
        recorded = record_conversion(report.kind, report.payload, source=source, store=None)
    except (TagRefused, ConversionRefused) as refusal:
        return ReportVerdict(
            ReportOutcome.REFUSED,
            refusal.status,
            refusal.code,
            refusal.message,
            program=program,
            test=click.test,
        )
    return ReportVerdict(
        ReportOutcome.CREATED if recorded.created else ReportOutcome.REPLAYED,
        201 if recorded.created else 200,
        message="Stored." if recorded.created else "Already stored: the same report again.",
        program=program,
        conversion=recorded.conversion,
        test=click.test,
    )
