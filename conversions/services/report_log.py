"""The report log (contract section 8): every report received, whatever became of it.

`log_report` is the one place a report is logged, so it is also the one place to count
reports by source and outcome. It costs one INSERT and reads nothing: the caller hands
over what it already knows. `prune_report_log` keeps the log to RETRACK_REPORT_LOG_DAYS.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from conversions.models import (
    PAYLOAD_LOG_MAX_BYTES,
    REFERENCE_MAX_LENGTH,
    Conversion,
    ReportLogEntry,
    ReportOutcome,
    ReportSource,
)
from retrack.lib.plain_sql import insert_instances
from stores.models import Program

CLICK_MAX_LENGTH = 64
MESSAGE_MAX_LENGTH = 1000


@dataclass(frozen=True)
class ReportVerdict:
    """What became of a report: its outcome, the refusal's code, and what it touched."""

    outcome: ReportOutcome
    status_code: int
    code: str | None = None
    message: str = ""
    program: Program | None = None
    conversion: Conversion | None = None
    test: bool = False


def log_report(
    verdict: ReportVerdict,
    *,
    source: ReportSource,
    kind: str | None,
    store_id: int | None,
    payload: bytes | str,
    sent: Any = None,
) -> ReportLogEntry:
    """Append one report to the log with a single INSERT.

    `payload` is the body (or the pixel's query string) exactly as received; headers are
    never passed in, so no credential can reach the log. `sent` is the parsed body when
    there is one, for the click and the order number or reference as sent.
    """
    entry = ReportLogEntry(
        source=source,
        kind=kind if kind in ("transaction", "lead") else None,
        outcome=verdict.outcome,
        code=verdict.code,
        message=verdict.message[:MESSAGE_MAX_LENGTH],
        status_code=verdict.status_code,
        store_id=store_id,
        program=verdict.program,
        click=_sent_text(sent, "click", CLICK_MAX_LENGTH),
        key=_sent_text(sent, "orderNumber", REFERENCE_MAX_LENGTH)
        or _sent_text(sent, "reference", REFERENCE_MAX_LENGTH),
        conversion=verdict.conversion,
        test=verdict.test,
        payload=loggable_payload(payload),
    )
    # Plain SQL: every report of every channel pays for this INSERT (plain_sql.py).
    insert_instances([entry])
    return entry


def loggable_payload(payload: bytes | str) -> str:
    """The payload as text of at most 8 KB (UTF-8), cut on a character boundary.

    Bytes that are not UTF-8 are replaced, and NUL characters (which PostgreSQL's text
    cannot hold) are shown escaped: the log keeps whatever arrived, safely.
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    text = payload[:PAYLOAD_LOG_MAX_BYTES].decode("utf-8", "ignore")
    if len(payload) > PAYLOAD_LOG_MAX_BYTES:
        text = text.encode("utf-8")[: PAYLOAD_LOG_MAX_BYTES - 3].decode("utf-8", "ignore") + "…"
    return text.replace("\x00", "\\u0000")


def _sent_text(sent: Any, name: str, max_length: int) -> str:
    if not isinstance(sent, dict):
        return ""
    value = sent.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).replace("\x00", "")[:max_length]


def prune_report_log(now: datetime | None = None) -> int:
    """Delete the entries older than RETRACK_REPORT_LOG_DAYS; the number deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RETRACK_REPORT_LOG_DAYS)
    deleted, _ = ReportLogEntry.objects.filter(received_at__lt=cutoff).delete()
    return deleted
