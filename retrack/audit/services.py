"""Writing audit events: one call where an operator's action happens."""

import getpass
from typing import Any

from retrack.audit.models import AuditAction, AuditEvent


def record_audit_event(
    action: AuditAction, *, actor: str, target: str = "", details: dict[str, Any] | None = None
) -> AuditEvent:
    """Keep that `actor` did `action` to `target`."""
    return AuditEvent.objects.create(
        action=action, actor=actor[:200], target=target[:300], details=details or {}
    )


def operator_actor(user) -> str:
    """How the back office names a staff user in the audit: `operator:<username>`."""
    return f"operator:{user.get_username()}"


def command_actor(command: str) -> str:
    """How a management command run names its caller: `command:<name> (<system user>)`."""
    try:
        system_user = getpass.getuser()
    except (KeyError, OSError):
        system_user = "unknown"
    return f"command:{command} ({system_user})"
