"""The partner API: the conversion feed and the program catalogue."""

import json

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversions.api.serializers import ErrorEnvelope
from partners.api import examples
from partners.api.cursors import (
    CURSOR_INVALID_MESSAGE,
    CursorInvalid,
    decode_feed_cursor,
    encode_feed_cursor,
)
from partners.api.serializers import (
    FeedPageSerializer,
    FeedQuerySerializer,
    PartnerProgramListSerializer,
    PartnerProgramSerializer,
    WebhookDeliveryListSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointEnvelope,
    WebhookEndpointListSerializer,
    WebhookEndpointSerializer,
)
from partners.models import WebhookEndpoint
from partners.selectors import FeedPage, admitted_programs, partner_feed_page
from partners.webhooks.declarations import (
    WebhookEndpointInvalid,
    WebhookEndpointRequest,
    parse_webhook_endpoint,
)
from partners.webhooks.selectors import latest_deliveries, partner_webhook_endpoints
from partners.webhooks.services import (
    WebhookRefused,
    delete_webhook_endpoint,
    register_webhook_endpoint,
)
from retrack.api.authentication import IsPartnerClient
from retrack.api.errors import ApiError

_AUTH_RESPONSES = {
    401: OpenApiResponse(ErrorEnvelope, description="No token, or an unknown or revoked one."),
    403: OpenApiResponse(ErrorEnvelope, description="A store token: this API takes partners'."),
}


def _feed_body(page: FeedPage, next_cursor: str) -> bytes:
    # The snapshots are already JSON text; splicing them in spares parsing and re-encoding
    # up to a thousand documents per page.
    return "".join(
        (
            '{"data":[',
            ",".join(page.snapshots),
            '],"next_cursor":',
            json.dumps(next_cursor),
            ',"has_more":',
            "true" if page.has_more else "false",
            "}",
        )
    ).encode()


class ConversionFeedView(APIView):
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="partner_conversion_feed",
        summary="Follow the partner's conversions: every creation and change, in order",
        description=(
            "Every change (created, amended, approved, rejected) of this partner's "
            "conversions after `cursor`, oldest first, each item the conversion as it was "
            "right after that change plus its `change` sequence number. Keep calling with "
            "`next_cursor`: every change is returned exactly once and in order, including "
            "changes committed concurrently. When `has_more` is false, wait and call again "
            "with the same `next_cursor`."
        ),
        tags=["partner"],
        parameters=[FeedQuerySerializer],
        responses={
            200: FeedPageSerializer,
            400: OpenApiResponse(
                ErrorEnvelope,
                description="A malformed or foreign cursor (`cursor_invalid`) or a limit "
                "outside 1–1000 (`invalid`).",
            ),
            **_AUTH_RESPONSES,
        },
        examples=[
            examples.FEED_PAGE,
            examples.FEED_UP_TO_DATE,
            examples.CURSOR_INVALID,
            examples.LIMIT_INVALID,
        ],
    )
    def get(self, request: Request) -> HttpResponse:
        partner = request.user.partner
        query = FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            after_sequence = decode_feed_cursor(partner, query.validated_data.get("cursor", ""))
        except CursorInvalid:
            fields = {"cursor": [CURSOR_INVALID_MESSAGE]}
            raise ApiError("cursor_invalid", CURSOR_INVALID_MESSAGE, fields=fields) from None
        page = partner_feed_page(
            partner, after_sequence=after_sequence, limit=query.validated_data["limit"]
        )
        body = _feed_body(page, encode_feed_cursor(partner, page.last_sequence))
        return HttpResponse(body, content_type="application/json")


class ProgramListView(APIView):
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="partner_programs",
        summary="The programs the partner may promote, with its tracking links",
        description=(
            "The active programs this partner is admitted to: store, currency, landing URL, "
            "allowed deeplink domains, attribution and validation days, the commission "
            "events, and the partner's tracking link with a `{ref}` placeholder."
        ),
        tags=["partner"],
        responses={200: PartnerProgramListSerializer, **_AUTH_RESPONSES},
        examples=[examples.PROGRAMS],
    )
    def get(self, request: Request) -> Response:
        partner = request.user.partner
        programs = admitted_programs(partner)
        serializer = PartnerProgramSerializer(programs, many=True, context={"partner": partner})
        return Response({"data": serializer.data})


_NOT_FOUND = OpenApiResponse(ErrorEnvelope, description="No endpoint of this partner has it.")
_ENDPOINT_LOCATION = OpenApiParameter(
    "Location",
    {"type": "string", "format": "uri-reference"},
    OpenApiParameter.HEADER,
    response=[201],
    description="The endpoint's own path, `/api/v2/partner/webhooks/<uuid>` (for DELETE).",
)


def _partner_endpoint(request: Request, endpoint_uuid) -> WebhookEndpoint:
    # Another partner's endpoint is as unknown as one that does not exist.
    endpoint = partner_webhook_endpoints(request.user.partner).filter(uuid=endpoint_uuid).first()
    if endpoint is None:
        raise ApiError("not_found", "No webhook endpoint has this UUID.", status.HTTP_404_NOT_FOUND)
    return endpoint


class WebhookEndpointListView(APIView):
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="partner_webhooks",
        summary="The partner's webhook endpoints",
        description="Every endpoint registered by this partner, oldest first; never the secret.",
        tags=["partner"],
        responses={200: WebhookEndpointListSerializer, **_AUTH_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        endpoints = partner_webhook_endpoints(request.user.partner)
        return Response({"data": WebhookEndpointSerializer(endpoints, many=True).data})

    @extend_schema(
        operation_id="partner_webhook_create",
        summary="Register a webhook endpoint; its signing secret is shown this once",
        description=(
            "Every feed item of the partner is then POSTed to `url` as a Standard Webhooks "
            "message signed with the returned `secret`. The URL must be https on a public "
            "address."
        ),
        tags=["partner"],
        request=WebhookEndpointRequest,
        parameters=[_ENDPOINT_LOCATION],
        responses={
            201: WebhookEndpointEnvelope,
            400: OpenApiResponse(
                ErrorEnvelope,
                description="`invalid`: a URL that is not https on a public address, a "
                "description over 200 characters, an unknown field, or an 11th endpoint.",
            ),
            **_AUTH_RESPONSES,
        },
        examples=[examples.WEBHOOK_REQUEST, examples.WEBHOOK_REGISTERED],
    )
    def post(self, request: Request) -> Response:
        try:
            given = parse_webhook_endpoint(request.data)
            endpoint, secret = register_webhook_endpoint(
                request.user.partner, url=given.url, description=given.description
            )
        except (WebhookEndpointInvalid, WebhookRefused) as refusal:
            raise ApiError("invalid", refusal.message, fields=refusal.fields) from None
        body = {**WebhookEndpointSerializer(endpoint).data, "secret": secret}
        location = f"{request.path.rstrip('/')}/{endpoint.uuid}"
        return Response(
            {"data": body}, status=status.HTTP_201_CREATED, headers={"Location": location}
        )


class WebhookEndpointView(APIView):
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="partner_webhook_delete",
        summary="Remove a webhook endpoint and its deliveries",
        tags=["partner"],
        responses={204: None, 404: _NOT_FOUND, **_AUTH_RESPONSES},
    )
    def delete(self, request: Request, endpoint_uuid) -> Response:
        delete_webhook_endpoint(_partner_endpoint(request, endpoint_uuid))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(APIView):
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="partner_webhook_deliveries",
        summary="The endpoint's latest deliveries and their state",
        tags=["partner"],
        responses={200: WebhookDeliveryListSerializer, 404: _NOT_FOUND, **_AUTH_RESPONSES},
    )
    def get(self, request: Request, endpoint_uuid) -> Response:
        deliveries = latest_deliveries(_partner_endpoint(request, endpoint_uuid))
        return Response({"data": WebhookDeliverySerializer(deliveries, many=True).data})
