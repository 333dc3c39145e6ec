"""Writes to claims: a partner files one, the store (or an operator for it) decides it.

Filing checks the click (exists, the partner's, that program's), the order's time (within
the click's attribution window, within the program's claim period) and that the order is
not tracked already, then stores the claim in one short transaction. One claim per order:
the database's unique constraint decides, so the same claim again (or its racing twin)
answers the stored claim, and a different one for the same order is refused.

Accepting records the conversion through the one recording path (`record_conversion`,
source `claim`, which is not bound by the attribution window) and marks the claim accepted
in the same transaction; declining needs a reason. Each change unsets the claim's
`sequence`, taking no shared lock; once it is committed, the sequencer gives the claim a
new number from the conversion feed's counter (`conversions.services.sequencing`), so the
partner's claim list never skips a decision. The write waits for that number before it
answers, so the answer carries it. The run that numbers a decision also pushes it to the
partner's webhooks (`claim.accepted`, `claim.declined`). Every change is kept in the
claim's history.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clicks.models import Click
from conversions.claims.models import Claim, ClaimChange, ClaimChangeAction, ClaimStatus
from conversions.claims.payloads import ClaimInput, parse_claim, parse_claim_decision
from conversions.claims.selectors import (
    claims_with_relations,
    tracked_conversion,
)
from conversions.models import Conversion, ConversionSource
from conversions.refusals import ConversionRefused, invalid
from conversions.services.recording import record_conversion
from conversions.services.sequencing import sequence_committed_changes
from partners.models import Partner
from stores.models import EventKind

# A shopper's clock and the partner's may disagree a little about "now".
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class FiledClaim:
    """What `file_claim` answers: the claim, and whether it is new (False: a replay)."""

    claim: Claim
    created: bool


def file_claim(partner: Partner, payload: Any) -> FiledClaim:
    """File the partner's claim from the contract's camelCase body (section 10).

    Raises ConversionRefused, having written nothing, when the claim is refused.
    """
    data = parse_claim(payload)
    click = _claimable_click(partner, data)
    program = click.program
    fingerprint = _fingerprint(data)
    existing = _claim_for_order(program.pk, data.kind, data.key)
    if existing is not None:
        return _replay(existing, partner, fingerprint)
    _refuse_if_tracked(program, data.kind, data.key)
    _refuse_if_untimely(data, click)
    now = timezone.now()
    claim = Claim(
        partner=partner,
        program=program,
        click=click,
        kind=data.kind,
        order_number=data.key if data.kind == EventKind.TRANSACTION else None,
        reference=data.key if data.kind == EventKind.LEAD else None,
        order_sum=data.order_sum,
        vat_sum=data.vat_sum,
        currency=data.currency,
        ordered_at=data.ordered_at,
        note=data.note,
        payload_fingerprint=fingerprint,
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            # A racing twin's INSERT waits for the winner's commit on the unique
            # constraint, then fails, and it answers the winner's claim.
            claim.save(force_insert=True)
            ClaimChange.objects.create(
                claim=claim, action=ClaimChangeAction.FILED, actor=f"partner:{partner.name}"
            )
    except IntegrityError:
        # The winner's claim, with its number (its own answer may still be waiting for it).
        sequence_committed_changes(wait=True)
        winner = _claim_for_order(program.pk, data.kind, data.key)
        if winner is None:
            raise
        return _replay(winner, partner, fingerprint)
    sequence_committed_changes(wait=True)
    return FiledClaim(claims_with_relations().get(pk=claim.pk), True)


def decide_claim(claim: Claim, payload: Any, *, actor: str) -> Claim:
    """Accept or decline an open claim from the store's PATCH body (section 10)."""
    decision = parse_claim_decision(payload, EventKind(claim.kind))
    if decision.accept:
        return accept_claim(claim, decision.conversion_fields or {}, actor=actor)
    return decline_claim(claim, decision.reason, actor=actor)


def accept_claim(claim: Claim, conversion_fields: dict[str, Any], *, actor: str) -> Claim:
    """Record the claimed conversion on the claim's click and mark the claim accepted.

    `conversion_fields` are the store API's fields for the conversion (`event`, `orderSum`,
    `vatSum`, `products`); the click, the order number (or reference) and the currency are
    the claim's. Refused (409) when the claim is decided or the order was tracked meanwhile.
    """
    with transaction.atomic():
        locked = _locked_open_claim(claim)
        program = locked.program
        _refuse_if_tracked(program, EventKind(locked.kind), locked.key)
        payload = {**conversion_fields, "click": str(locked.click_id)}
        if locked.kind == EventKind.TRANSACTION:
            payload |= {"orderNumber": locked.key, "currency": program.currency}
        else:
            payload["reference"] = locked.key
        recorded = record_conversion(
            locked.kind, payload, source=ConversionSource.CLAIM, store=program.store, actor=actor
        )
        if not recorded.created:
            # Reported by the store between our check and the INSERT.
            raise _already_tracked(recorded.conversion)
        _apply_decision(locked, ClaimStatus.ACCEPTED, actor, "", recorded.conversion)
    sequence_committed_changes(wait=True)
    return claims_with_relations().get(pk=claim.pk)


def decline_claim(claim: Claim, reason: str, *, actor: str) -> Claim:
    """Decline an open claim with a reason, which the partner sees."""
    reason = reason.strip()
    if not reason:
        raise invalid({"reason": ["is required to decline"]})
    with transaction.atomic():
        _apply_decision(_locked_open_claim(claim), ClaimStatus.DECLINED, actor, reason, None)
    sequence_committed_changes(wait=True)
    return claims_with_relations().get(pk=claim.pk)


def _locked_open_claim(claim: Claim) -> Claim:
    # The row lock makes a second decision wait for the first and then see it decided.
    locked = Claim.objects.select_for_update().select_related("program__store").get(pk=claim.pk)
    if locked.status != ClaimStatus.OPEN:
        raise ConversionRefused(
            409,
            "claim_not_open",
            f"The claim was already {locked.status}; a decided claim cannot be decided again.",
        )
    return locked


def _apply_decision(
    claim: Claim,
    status: ClaimStatus,
    actor: str,
    reason: str,
    conversion: Conversion | None,
) -> None:
    now = timezone.now()
    ClaimChange.objects.create(
        claim=claim,
        action=ClaimChangeAction.ACCEPTED
        if status == ClaimStatus.ACCEPTED
        else ClaimChangeAction.DECLINED,
        actor=actor,
        reason=reason,
        changes={
            "status": [ClaimStatus.OPEN.value, status.value],
            **({"conversion": [None, str(conversion.uuid)]} if conversion else {}),
        },
        created_at=now,
    )
    Claim.objects.filter(pk=claim.pk).update(
        status=status,
        decision_reason=reason,
        conversion=conversion,
        updated_at=now,
        # Numbered once committed; the run that numbers it writes its webhook deliveries.
        sequence=None,
    )


def _claimable_click(partner: Partner, data: ClaimInput) -> Click:
    click = Click.objects.select_related("program").filter(pk=data.click).first()
    if click is None:
        raise ConversionRefused(
            422, "click_not_found", "No click has this UUID.", {"click": ["is not a known click"]}
        )
    if click.partner_id != partner.pk or click.program.uuid != data.program:
        # Another partner's click, or one made for another program, is not this claim's.
        raise ConversionRefused(
            422,
            "click_not_yours",
            "The click is not one of yours for this program.",
            {"click": ["is not one of your clicks for this program"]},
        )
    return click


def _refuse_if_untimely(data: ClaimInput, click: Click) -> None:
    program = click.program
    now = timezone.now()
    if data.ordered_at > now + CLOCK_SKEW:
        raise invalid({"orderedAt": ["must not be in the future"]})
    window_end = click.created_at + timedelta(days=program.attribution_days)
    if data.ordered_at < click.created_at or data.ordered_at > window_end:
        raise ConversionRefused(
            422,
            "click_expired",
            f"The order is not within the click's attribution window (the "
            f"{program.attribution_days} days after the click).",
            {"orderedAt": ["is before the click or past its attribution window"]},
        )
    if now > data.ordered_at + timedelta(days=program.claim_days):
        raise ConversionRefused(
            422,
            "claim_too_late",
            f"The program takes claims up to {program.claim_days} days after the order.",
            {"orderedAt": [f"is more than {program.claim_days} days ago"]},
        )
    if data.currency and data.currency != program.currency:
        raise ConversionRefused(
            422,
            "currency_mismatch",
            f"The program's currency is {program.currency}, not {data.currency}.",
            {"currency": [f"must be {program.currency}"]},
        )


def _refuse_if_tracked(program, kind: EventKind, key: str) -> None:
    conversion = tracked_conversion(program, kind, key)
    if conversion is not None:
        raise _already_tracked(conversion)


def _already_tracked(conversion: Conversion) -> ConversionRefused:
    key_name = "order" if conversion.kind == EventKind.TRANSACTION else "lead"
    return ConversionRefused(
        409,
        "already_tracked",
        f"The program has already tracked this {key_name}: conversion {conversion.uuid}.",
        {"conversion": [str(conversion.uuid)]},
    )


def _claim_for_order(program_id: int, kind: EventKind, key: str) -> Claim | None:
    key_field = "order_number" if kind == EventKind.TRANSACTION else "reference"
    return (
        claims_with_relations().filter(program_id=program_id, kind=kind, **{key_field: key}).first()
    )


def _replay(existing: Claim, partner: Partner, fingerprint: str) -> FiledClaim:
    """The stored claim when this one repeats it; a 409 when it differs."""
    if existing.partner_id == partner.pk and existing.payload_fingerprint == fingerprint:
        return FiledClaim(existing, False)
    key_name = "orderNumber" if existing.kind == EventKind.TRANSACTION else "reference"
    raise ConversionRefused(
        409,
        "duplicate_conflict",
        f"A different claim for this {key_name} exists already; one order takes one claim.",
        {key_name: ["has a claim already, with different data"]},
    )


def _fingerprint(data: ClaimInput) -> str:
    """A digest of the claim's fields: equal for a replay. The note is display text: left out."""
    canonical = {
        "program": str(data.program),
        "click": str(data.click),
        "kind": str(data.kind),
        "key": data.key,
        "order_sum": data.order_sum,
        "vat_sum": data.vat_sum,
        "currency": data.currency,
        "ordered_at": data.ordered_at.timestamp(),
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()
