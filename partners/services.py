"""Writes to partners, their admissions and their API tokens."""

from django.db import transaction

from partners.models import Admission, Partner, PartnerToken
from stores.models import Program
from stores.services import revoke_api_token


def issue_partner_token(partner: Partner, name: str = "") -> tuple[PartnerToken, str]:
    """Create a token for the partner API; the secret is returned here and never again."""
    token = PartnerToken(partner=partner, name=name)
    secret = token.set_new_secret()
    token.save()
    return token, secret


def revoke_partner_token(token: PartnerToken, *, actor: str = "system") -> bool:
    """Revoke the token from now on; False when it already was (nothing is recorded then)."""
    return revoke_api_token(token, owner=token.partner, actor=actor)


def admit_partner(partner: Partner, program: Program) -> Admission:
    """Admit a partner to a program (idempotent: the unique constraint decides)."""
    with transaction.atomic():
        admission, _ = Admission.objects.get_or_create(partner=partner, program=program)
    return admission
