"""Operators' actions that change no row the history tables keep, and who did them.

Changes to stores, programs, events, partners, admissions and tokens are kept field by
field, old and new values, by django-simple-history (their `history` tables). This
table keeps what those cannot: a token revoked (a conditional UPDATE, so that two
operators revoking at once record one revocation), a CSV export (a read), and the runs
of the `onboard` and `create_token` commands.
"""

from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    TOKEN_REVOKED = "token_revoked", "Token revoked"
    CSV_EXPORTED = "csv_exported", "CSV exported"
    ONBOARD_RUN = "onboard_run", "manage.py onboard"
    TOKEN_ISSUED_BY_COMMAND = "token_issued_by_command", "manage.py create_token"


class AuditEvent(models.Model):
    """One operator action: who, when, what, on which object, and its details."""

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    actor = models.CharField(
        max_length=200, help_text="operator:<username>, or command:<name> (<system user>)."
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    target = models.CharField(max_length=300, blank=True, help_text="What it was done to.")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["action", "-created_at"], name="audit_action_created")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor}"
