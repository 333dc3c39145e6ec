"""Writing audit events: one call where an operator's action happens."""

import getpass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

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


def history_user(request: Any = None, **kwargs: Any) -> Any:
    """The operator behind a change, for django-simple-history; None for any other caller.

    The history middleware keeps the request, and on an API call DRF has set its user to the
    calling store or partner (an `ApiClient`), which a historical row can't point to: such
    changes, like those of commands and jobs, are recorded without an operator.
    """
    user = getattr(request, "user", None)
    return user if isinstance(user, AbstractBaseUser) else None
