"""Writes to stores, programs, events and store tokens, and onboarding from a document."""

from django.db import transaction
from django.utils import timezone

from retrack.audit.models import AuditAction
from retrack.audit.services import record_audit_event
from retrack.lib.tokens import ApiTokenBase
from stores.models import Event, Program, Store, StoreToken


def issue_store_token(store: Store, name: str = "") -> tuple[StoreToken, str]:
    """Create a token for the store API; the secret is returned here and never again."""
    token = StoreToken(store=store, name=name)
    secret = token.set_new_secret()
    token.save()
    return token, secret


def revoke_store_token(token: StoreToken, *, actor: str = "system") -> bool:
    """Revoke the token from now on; False when it already was (nothing is recorded then)."""
    return revoke_api_token(token, owner=token.store, actor=actor)


def revoke_api_token(token: ApiTokenBase, *, owner: object, actor: str) -> bool:
    """Revoke a store's or a partner's token once, and record who did it in the audit.

    A conditional UPDATE, so that of two operators revoking at once only one revokes and
    one revocation is recorded.
    """
    now = timezone.now()
    with transaction.atomic():
        revoked = (
            type(token).objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        )
        if revoked:
            record_audit_event(
                AuditAction.TOKEN_REVOKED,
                actor=actor,
                target=f"{token.prefix}… ({owner})",
                details={"revoked_at": [None, now.isoformat()]},
            )
    return bool(revoked)


def save_event(program: Program, *, name: str, kind: str, percent, fixed_amount) -> Event:
    """Create or update (by name) an event of a program."""
    event, _ = Event.objects.update_or_create(
        program=program,
        name=name,
        defaults={"kind": kind, "percent": percent, "fixed_amount": fixed_amount},
    )
    return event


@transaction.atomic
def save_program(store: Store, *, name: str, **fields) -> Program:
    """Create or update (by name within its store) a program."""
    program, _ = Program.objects.update_or_create(store=store, name=name, defaults=fields)
    return program
