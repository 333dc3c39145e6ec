"""Log formatting: plain text or one JSON object per line, never a secret or a full address.

Both formatters add the current request id (`retrack.lib.request_ids`) and pass the
finished text through `redact`: API tokens keep only their visible prefix, bearer
credentials disappear, and IP addresses are cut as `anonymize_clicks` cuts them (last
IPv4 octet, last 80 bits of IPv6) unless full addresses are allowed in logs. Gunicorn
can use them too (gunicorn.conf.py), so its access lines become JSON with their fields.
"""

import ipaddress
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from retrack.lib.request_ids import current_request_id
from retrack.lib.visitors import mask_ip

# A store or partner token (retrack/lib/tokens.py): its 12-character visible prefix stays.
# (Not imported from there: that module defines models, and gunicorn's master, which
# formats its own logs with this module, never sets Django up.)
_API_TOKEN = re.compile(r"\b(rt[sp]_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s,;\"']+")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# Gunicorn's access-log atoms worth a JSON field of their own (never the client address).
_ACCESS_FIELDS = {
    "m": "method",
    "U": "path",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "a": "user_agent",
    "{x-request-id}o": "request_id",
}


def redact(text: str, full_ip_addresses: bool = False) -> str:
    """`text` without token secrets and bearer credentials, its addresses cut unless allowed."""
    text = _API_TOKEN.sub(r"\1…", text)
    text = _BEARER.sub(r"\1 [redacted]", text)
    if not full_ip_addresses:
        text = _IPV4.sub(_masked_address, text)
        text = _IPV6.sub(_masked_address, text)
    return text


def _masked_address(match: re.Match) -> str:
    found = match.group(0)
    try:
        ipaddress.ip_address(found)
    except ValueError:
        return found  # a time of day, a version number: not an address
    return mask_ip(found) or found


class PlainFormatter(logging.Formatter):
    """`logging.Formatter` with `%(request_id)s` available, its output redacted."""

    def __init__(self, *args: Any, full_ip_addresses: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.full_ip_addresses = full_ip_addresses

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = current_request_id() or "-"
        return redact(super().format(record), self.full_ip_addresses)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, exception."""

    def __init__(self, *args: Any, full_ip_addresses: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.full_ip_addresses = full_ip_addresses

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry.update(_access_fields(record.args))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        line = json.dumps(entry, ensure_ascii=False, default=str)
        # Redacting the serialized line keeps it valid JSON: nothing redaction writes needs
        # escaping.
        return redact(line, self.full_ip_addresses)


def _access_fields(atoms: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for atom, name in _ACCESS_FIELDS.items():
        value = atoms.get(atom)
        if value is None or value in ("-", ""):
            continue
        if name in {"status", "bytes", "duration_ms"}:
            value = int(value) if str(value).isdigit() else value
        fields[name] = value
    return fields
