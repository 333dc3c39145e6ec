"""Claim test helpers: the example claims, and counts that show a refusal stored nothing."""

from datetime import timedelta

from clicks.models import Click
from conversions.claims.models import Claim, ClaimChange
from conversions.models import Conversion, ConversionChange


def claim_payload(clicked: Click, /, **overrides) -> dict:
    """A claim for order 692549563, placed an hour after the click."""
    payload = {
        "program": str(clicked.program.uuid),
        "click": str(clicked.uuid),
        "kind": "transaction",
        "orderNumber": "692549563",
        "orderSum": 1625,
        "vatSum": 325,
        "currency": "SEK",
        "orderedAt": (clicked.created_at + timedelta(hours=1)).isoformat(),
        "note": "Paid by invoice.",
    }
    payload.update(overrides)
    return payload


def lead_claim_payload(clicked: Click, /, **overrides) -> dict:
    payload = {
        "program": str(clicked.program.uuid),
        "click": str(clicked.uuid),
        "kind": "lead",
        "reference": "member-1001",
        "orderedAt": (clicked.created_at + timedelta(hours=1)).isoformat(),
    }
    payload.update(overrides)
    return payload


def stored_counts() -> tuple[int, int, int, int]:
    """Claims, claim history entries, conversions and feed items: to show nothing changed."""
    return (
        Claim.objects.count(),
        ClaimChange.objects.count(),
        Conversion.objects.count(),
        ConversionChange.objects.count(),
    )
