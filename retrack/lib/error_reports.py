"""Error reports to Sentry (or a compatible server such as GlitchTip), when SENTRY_DSN is set.

Unset, nothing here runs and sentry-sdk is not even imported: nothing is sent anywhere.
Set, Django's unhandled errors are reported by the Django integration, and every log
record of level ERROR (with its traceback) by the logging integration: that is how the
tracking link's failures, answered by the WSGI router outside Django's handler, arrive.
No personal data is sent: no cookie or user (`send_default_pii` off), credentials
scrubbed by the SDK's denylist, and every text of an event (messages, stack frames'
local variables) passed through the logs' `redact`, so token secrets and IP addresses
are cut there as in the logs.
"""

import logging
from functools import partial
from typing import Any

from retrack.lib.logs import redact


def start_error_reports(
    dsn: str,
    *,
    environment: str,
    release: str,
    traces_sample_rate: float,
    full_ip_addresses: bool = False,
) -> None:
    """Initialise sentry-sdk with the Django and logging integrations."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[
            DjangoIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=partial(_redacted_event, full_ip_addresses=full_ip_addresses),
    )


def _redacted_event(event: dict[str, Any], hint: Any, *, full_ip_addresses: bool) -> Any:
    return _redacted(event, full_ip_addresses)


def _redacted(value: Any, full_ip_addresses: bool) -> Any:
    if isinstance(value, str):
        return redact(value, full_ip_addresses)
    if isinstance(value, dict):
        return {key: _redacted(item, full_ip_addresses) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, full_ip_addresses) for item in value]
    return value
