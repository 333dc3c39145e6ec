"""Writes to partners, their admissions and their API tokens."""

from django.db import transaction
from django.utils import timezone

from partners.models import Admission, Partner, PartnerToken
from retrack.audit.models import AuditAction
from retrack.audit.services import record_audit_event
from stores.models import Program


def issue_partner_token(partner: Partner, name: str = "") -> tuple[PartnerToken, str]:
    """Create a token for the partner API; the secret is returned here and never again."""
    token = PartnerToken(partner=partner, name=name)
    secret = token.set_new_secret()
    token.save()
    return token, secret


def revoke_partner_token(token: PartnerToken, *, actor: str = "system") -> bool:
    """Revoke the token from now on; False when it already was (nothing is recorded then)."""
    now = timezone.now()
    with transaction.atomic():
        revoked = PartnerToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if revoked:
            record_audit_event(
                AuditAction.TOKEN_REVOKED,
                actor=actor,
                target=f"{token.prefix}… ({token.partner})",
                details={"revoked_at": [None, now.isoformat()]},
            )
    return bool(revoked)


def admit_partner(partner: Partner, program: Program) -> Admission:
    """Admit a partner to a program (idempotent: the unique constraint decides)."""
    with transaction.atomic():
        admission, _ = Admission.objects.get_or_create(partner=partner, program=program)
    return admission
