"""Reads of claims: the one representation of a claim, and the lists partners and stores page."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from conversions.claims.models import Claim, ClaimStatus
from conversions.models import Conversion
from conversions.selectors import iso_utc
from partners.models import Partner
from stores.models import EventKind, Program, Store

CLAIMS_DEFAULT_LIMIT = 100
CLAIMS_MAX_LIMIT = 1000


def claims_with_relations() -> QuerySet[Claim]:
    """Claims with everything `claim_document` reads, in one query."""
    return Claim.objects.select_related("program", "partner", "conversion")


def claim_document(claim: Claim) -> dict[str, Any]:
    """The claim as both APIs show it (contract section 10), in snake_case.

    `change` is the number of the claim's latest change: the partner's claim list is in
    this order. None for a moment after a change, until the sequencer numbers it.
    """
    document: dict[str, Any] = {
        "uuid": str(claim.uuid),
        "status": str(claim.status),
        "kind": str(claim.kind),
        "program": {"uuid": str(claim.program.uuid), "name": claim.program.name},
        "publisher": {"uuid": str(claim.partner.uuid), "name": claim.partner.name},
        "click": str(claim.click_id),
    }
    if claim.kind == EventKind.TRANSACTION:
        document["order_number"] = claim.order_number
    else:
        document["reference"] = claim.reference
    document.update(
        {
            "order_sum": claim.order_sum,
            "vat_sum": claim.vat_sum,
            "currency": claim.currency or claim.program.currency,
            "ordered_at": iso_utc(claim.ordered_at),
            "note": claim.note,
            "decision_reason": claim.decision_reason,
            "conversion": str(claim.conversion.uuid) if claim.conversion_id else None,
            "change": claim.sequence,
            "created_at": iso_utc(claim.created_at),
            "updated_at": iso_utc(claim.updated_at),
        }
    )
    return document


@dataclass(frozen=True)
class ClaimsPage:
    """One page of claims, and the position the next page starts after."""

    claims: list[Claim]
    last_position: int
    has_more: bool


def _page(claims: QuerySet[Claim], position_field: str, after: int, limit: int) -> ClaimsPage:
    rows = list(
        claims.filter(**{f"{position_field}__gt": after}).order_by(position_field)[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = getattr(rows[-1], position_field) if rows else after
    return ClaimsPage(claims=rows, last_position=last, has_more=has_more)


def partner_claims_page(partner: Partner, *, after_sequence: int, limit: int) -> ClaimsPage:
    """The partner's claims whose latest change is after `after_sequence`, oldest change first.

    Every change of a claim (filed, accepted, declined) unsets its `sequence`, and the
    sequencer gives it a new number from the conversion feed's counter once the change is
    committed (`conversions.services.sequencing`): numbers appear in increasing order, as
    in the conversion feed (`partners.selectors.partner_feed_page`), so a poller that
    follows the cursor sees each claim's latest state, every decision included, and never
    skips one. A claim whose latest change is not numbered yet is left out until it is.
    """
    return _page(claims_with_relations().filter(partner=partner), "sequence", after_sequence, limit)


def store_claims_page(
    store: Store, *, status: ClaimStatus | None, after_id: int, limit: int
) -> ClaimsPage:
    """Claims on the store's programs (optionally of one status), oldest first."""
    claims = claims_with_relations().filter(program__in=Program.objects.filter(store=store))
    if status is not None:
        claims = claims.filter(status=status)
    return _page(claims, "id", after_id, limit)


def partner_claim(partner: Partner, uuid) -> Claim | None:
    """One of the partner's claims, or None."""
    return claims_with_relations().filter(partner=partner, uuid=uuid).first()


def store_claim(store: Store, uuid) -> Claim | None:
    """A claim on one of the store's programs, or None."""
    return claims_with_relations().filter(program__store=store, uuid=uuid).first()


def tracked_conversion(program: Program, kind: EventKind, key: str) -> Conversion | None:
    """The program's conversion with this order number (or lead reference), if tracked."""
    key_field = "order_number" if kind == EventKind.TRANSACTION else "reference"
    return Conversion.objects.filter(program=program, kind=kind, **{key_field: key}).first()


def count_open_claims(program: Program | None = None, partner: Partner | None = None) -> int:
    """How many claims wait for the store's decision, optionally of one program or partner."""
    claims = Claim.objects.filter(status=ClaimStatus.OPEN)
    if program is not None:
        claims = claims.filter(program=program)
    if partner is not None:
        claims = claims.filter(partner=partner)
    return claims.count()
