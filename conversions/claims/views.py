"""The claim calls of both APIs (contract section 10): thin views over the claim services.

Partners file and follow their claims under /api/v2/partner/claims; stores list and decide
the claims on their programs under /api/v2/claims. Both answer `claim_document`.
"""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from conversions.api.serializers import ErrorEnvelope
from conversions.api.views import json_body
from conversions.claims import docs
from conversions.claims.models import ClaimStatus
from conversions.claims.payloads import ClaimDecisionRequest, ClaimRequest
from conversions.claims.selectors import (
    ClaimsPage,
    claim_document,
    partner_claim,
    partner_claims_page,
    store_claim,
    store_claims_page,
)
from conversions.claims.services import decide_claim, file_claim
from conversions.refusals import ConversionRefused
from conversions.services.sequencing import sequence_committed_changes
from retrack.api.authentication import IsPartnerClient, IsStoreClient
from retrack.api.cursors import CURSOR_INVALID_MESSAGE, CursorInvalid, decode_cursor, encode_cursor
from retrack.api.errors import ApiError
from retrack.api.parsers import JSONParser
from retrack.api.views import ApiView

_PARTNER_CURSOR = "retrack.claims.partner-cursor"
_STORE_CURSOR = "retrack.claims.store-cursor"
_NOT_FOUND = {404: OpenApiResponse(ErrorEnvelope, description="Not one of your claims.")}
_LOCATION = OpenApiParameter(
    "Location",
    {"type": "string", "format": "uri-reference"},
    OpenApiParameter.HEADER,
    response=[201],
    description="The new claim's own path, `/api/v2/partner/claims/<uuid>`.",
)
_NO_TOKEN = OpenApiResponse(ErrorEnvelope, description="No token, or an unknown or revoked one.")
_PARTNER_AUTH = {
    401: _NO_TOKEN,
    403: OpenApiResponse(ErrorEnvelope, description="A store token: this call takes partners'."),
}
_STORE_AUTH = {
    401: _NO_TOKEN,
    403: OpenApiResponse(ErrorEnvelope, description="A partner token: this call takes stores'."),
}
_PAGE_QUERY = frozenset({"cursor", "limit"})


def _refused(refusal: ConversionRefused) -> ApiError:
    return ApiError(refusal.code, refusal.message, refusal.status, refusal.fields)


def _paged(
    request: Request,
    query_class: type[serializers.Serializer],
    owner: UUID,
    salt: str,
    fetch: Callable[[int, dict[str, Any]], ClaimsPage],
) -> Response:
    """A page of claims after the query's cursor, with the cursor that continues it."""
    query = query_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    try:
        after = decode_cursor(owner, query.validated_data.get("cursor", ""), salt=salt)
    except CursorInvalid:
        fields = {"cursor": [CURSOR_INVALID_MESSAGE]}
        raise ApiError("cursor_invalid", CURSOR_INVALID_MESSAGE, fields=fields) from None
    page = fetch(after, query.validated_data)
    return Response(
        {
            "data": [claim_document(claim) for claim in page.claims],
            "next_cursor": encode_cursor(owner, page.last_position, salt=salt),
            "has_more": page.has_more,
        }
    )


def _one(claim) -> Response:
    if claim is None:
        raise ApiError("not_found", "No such claim.", status.HTTP_404_NOT_FOUND)
    return Response({"data": claim_document(claim)})


class PartnerClaimsView(ApiView):
    permission_classes = [IsPartnerClient]
    parser_classes = [JSONParser]
    query_parameters = {"get": _PAGE_QUERY}

    @extend_schema(
        operation_id="partner_file_claim",
        summary="File a claim for an order that tracking missed",
        description=(
            "Against the click the shopper came through. `201` with the open claim; the "
            "same claim again answers `200` with it as it is now. Refused: `422` "
            "`click_not_found`, `click_not_yours` (another partner's click, or another "
            "program's), `click_expired` (`orderedAt` before the click or past its "
            "attribution window), `claim_too_late` (past the program's claim period, 90 days "
            "by default), `currency_mismatch`; `409` `already_tracked` (the program tracked "
            "this order: its conversion's uuid in `fields.conversion`) or "
            "`duplicate_conflict` (a different claim for the same order exists)."
        ),
        tags=["partner claims"],
        request=ClaimRequest,
        parameters=[_LOCATION],
        responses={
            **_PARTNER_AUTH,
            201: docs.ClaimEnvelope,
            200: docs.ClaimEnvelope,
            400: ErrorEnvelope,
            409: ErrorEnvelope,
            422: ErrorEnvelope,
        },
        examples=[docs.FILE_CLAIM_EXAMPLE, docs.claim_example("Filed", docs.OPEN_CLAIM, "201")],
    )
    def post(self, request: Request) -> Response:
        try:
            filed = file_claim(request.user.partner, json_body(request))
        except ConversionRefused as refusal:
            raise _refused(refusal) from None
        response = Response(
            {"data": claim_document(filed.claim)},
            status=status.HTTP_201_CREATED if filed.created else status.HTTP_200_OK,
        )
        if filed.created:
            response["Location"] = reverse("partner_api:claim-detail", args=[filed.claim.uuid])
        return response

    @extend_schema(
        operation_id="partner_claims",
        summary="Follow the partner's claims in order of their latest change",
        description=(
            "Claims whose latest change (filed, accepted, declined) is after `cursor`, "
            "oldest change first: keep calling with `next_cursor` and each decision shows up "
            "once, including decisions committed concurrently."
        ),
        tags=["partner claims"],
        parameters=[docs.PartnerClaimsQuery],
        responses={**_PARTNER_AUTH, 200: docs.ClaimPage, 400: ErrorEnvelope},
    )
    def get(self, request: Request) -> Response:
        partner = request.user.partner
        # Number what has committed first, so that one database is never behind itself.
        sequence_committed_changes()
        return _paged(
            request,
            docs.PartnerClaimsQuery,
            partner.uuid,
            _PARTNER_CURSOR,
            lambda after, query: partner_claims_page(
                partner, after_sequence=after, limit=query["limit"]
            ),
        )


class PartnerClaimDetailView(ApiView):
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="partner_claim",
        summary="One of the partner's claims",
        tags=["partner claims"],
        responses={**_PARTNER_AUTH, 200: docs.ClaimEnvelope, **_NOT_FOUND},
        examples=[docs.claim_example("Declined", docs.DECLINED_CLAIM, "200")],
    )
    def get(self, request: Request, uuid) -> Response:
        sequence_committed_changes()
        return _one(partner_claim(request.user.partner, uuid))


class StoreClaimsView(ApiView):
    permission_classes = [IsStoreClient]
    query_parameters = {"get": frozenset({"status", *_PAGE_QUERY})}

    @extend_schema(
        operation_id="store_claims",
        summary="Claims on the store's programs, oldest first",
        description="`?status=open` lists those waiting for a decision. Cursor paging.",
        tags=["claims"],
        parameters=[docs.StoreClaimsQuery],
        responses={**_STORE_AUTH, 200: docs.ClaimPage, 400: ErrorEnvelope},
    )
    def get(self, request: Request) -> Response:
        store = request.user.store
        return _paged(
            request,
            docs.StoreClaimsQuery,
            store.uuid,
            _STORE_CURSOR,
            lambda after, query: store_claims_page(
                store,
                status=ClaimStatus(query["status"]) if query.get("status") else None,
                after_id=after,
                limit=query["limit"],
            ),
        )


class StoreClaimDetailView(ApiView):
    permission_classes = [IsStoreClient]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="store_claim",
        summary="One claim on the store's programs",
        tags=["claims"],
        responses={**_STORE_AUTH, 200: docs.ClaimEnvelope, **_NOT_FOUND},
    )
    def get(self, request: Request, uuid) -> Response:
        return _one(store_claim(request.user.store, uuid))

    @extend_schema(
        operation_id="store_decide_claim",
        summary="Accept or decline a claim",
        description=(
            "Accepting records the conversion on the claim's click (`source` `claim`), "
            "whatever the click's age, with the claim's order number (or reference) and the "
            "program's currency; the body's `event`, `orderSum`, `vatSum` and `products` are "
            "checked as `POST /api/v2/transactions` checks them. It reaches the partner like "
            "any other conversion. Declining needs a `reason`, which the partner sees. "
            "`409` `claim_not_open` for a claim already decided; `409` `already_tracked` "
            "when the order was reported meanwhile (decline the claim)."
        ),
        tags=["claims"],
        request=ClaimDecisionRequest,
        responses={
            **_STORE_AUTH,
            200: docs.ClaimEnvelope,
            400: ErrorEnvelope,
            409: ErrorEnvelope,
            422: ErrorEnvelope,
            **_NOT_FOUND,
        },
        examples=[
            docs.ACCEPT_EXAMPLE,
            docs.DECLINE_EXAMPLE,
            docs.claim_example("Accepted", docs.ACCEPTED_CLAIM, "200"),
        ],
    )
    def patch(self, request: Request, uuid) -> Response:
        store = request.user.store
        claim = store_claim(store, uuid)
        if claim is None:
            raise ApiError("not_found", "No such claim.", status.HTTP_404_NOT_FOUND)
        try:
            decided = decide_claim(claim, json_body(request), actor=f"store:{store.name}")
        except ConversionRefused as refusal:
            raise _refused(refusal) from None
        return Response({"data": claim_document(decided)})
