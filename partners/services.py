"""Writes to partners, their admissions and their API tokens."""

from django.db import IntegrityError, transaction

from partners.models import INTEGRATION_TEST_PARTNER_NAME, Admission, Partner, PartnerToken
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


def integration_test_partner() -> Partner:
    """The partner that test clicks come from: none of the real partners ever sees them.

    Made on first use; the unique name decides between two racing first uses.
    """
    partner = Partner.objects.filter(name=INTEGRATION_TEST_PARTNER_NAME).first()
    if partner is not None:
        return partner
    try:
        with transaction.atomic():
            return Partner.objects.create(name=INTEGRATION_TEST_PARTNER_NAME)
    except IntegrityError:
        return Partner.objects.get(name=INTEGRATION_TEST_PARTNER_NAME)
