"""The partner API: the conversion feed and the program catalogue."""

import json
from datetime import timedelta

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from conversions.api.serializers import ErrorEnvelope
from conversions.reports import MAX_REPORT_DAYS, PartnerDay, partner_daily_stats
from conversions.services.sequencing import sequence_committed_changes
from partners.api import examples
from partners.api.cursors import (
    CURSOR_INVALID_MESSAGE,
    CursorInvalid,
    decode_feed_cursor,
    encode_feed_cursor,
)
from partners.api.serializers import (
    FeedItemEnvelope,
    FeedPageSerializer,
    FeedQuerySerializer,
    PartnerProgramListSerializer,
    PartnerProgramSerializer,
    StatsQuerySerializer,
    StatsSerializer,
    WebhookDeliveryListSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointEnvelope,
    WebhookEndpointListSerializer,
    WebhookEndpointSerializer,
)
from partners.models import WebhookEndpoint
from partners.selectors import (
    FeedPage,
    admitted_programs,
    partner_conversion_snapshot,
    partner_feed_page,
    stats_programs,
)
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
from retrack.api.views import ApiView

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


class ConversionFeedView(ApiView):
    permission_classes = [IsPartnerClient]
    query_parameters = {"get": frozenset({"cursor", "limit"})}

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
        # Number what has committed first, so that one database is never behind itself;
        # never waits behind another sequencer (the feed then lags, it never skips).
        sequence_committed_changes()
        page = partner_feed_page(
            partner, after_sequence=after_sequence, limit=query.validated_data["limit"]
        )
        body = _feed_body(page, encode_feed_cursor(partner, page.last_sequence))
        return HttpResponse(body, content_type="application/json")


class ConversionDetailView(ApiView):
    permission_classes = [IsPartnerClient]

    @extend_schema(
        operation_id="partner_conversion",
        summary="One of the partner's conversions, as its latest feed item shows it",
        description=(
            "The conversion as the feed's latest item for it shows it, with that item's "
            "`change` and `change_type`. Another partner's conversion, a test conversion or "
            "an unknown UUID answers 404."
        ),
        tags=["partner"],
        responses={
            200: FeedItemEnvelope,
            404: OpenApiResponse(ErrorEnvelope, description="Not one of your conversions."),
            **_AUTH_RESPONSES,
        },
        examples=[examples.CONVERSION],
    )
    def get(self, request: Request, uuid) -> HttpResponse:
        sequence_committed_changes()
        snapshot = partner_conversion_snapshot(request.user.partner, uuid)
        if snapshot is None:
            raise ApiError("not_found", "No such conversion of yours.", status_code=404)
        return HttpResponse(f'{{"data":{snapshot}}}'.encode(), content_type="application/json")


class ProgramListView(ApiView):
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


class StatsView(ApiView):
    permission_classes = [IsPartnerClient]
    query_parameters = {"get": frozenset({"from", "to", "program"})}

    @extend_schema(
        operation_id="partner_stats",
        summary="The partner's clicks, conversions and commission per UTC day and program",
        description=(
            "For each UTC day from `from` to `to` (both included, at most "
            f"{MAX_REPORT_DAYS} days) and each program you are admitted to (or only "
            "`program`): counted clicks (bots and link previews apart), the conversions "
            "tracked that day, their commission by status now (pending, approved, "
            "rejected) and the conversion rate. Days without traffic have zeros."
        ),
        tags=["partner"],
        parameters=[StatsQuerySerializer],
        responses={
            200: StatsSerializer,
            400: OpenApiResponse(ErrorEnvelope, description="A bad period or program."),
            **_AUTH_RESPONSES,
        },
    )
    def get(self, request: Request) -> Response:
        partner = request.user.partner
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        end = query.validated_data.get("to") or timezone.now().date()
        start = query.validated_data.get("from") or end - timedelta(days=29)
        if end < start or (end - start).days >= MAX_REPORT_DAYS:
            raise ApiError(
                "invalid",
                "The request has invalid fields: to.",
                fields={"to": [f"must be on or after from, at most {MAX_REPORT_DAYS} days on"]},
            )
        programs = list(stats_programs(partner))
        chosen = query.validated_data.get("program")
        if chosen is not None:
            programs = [program for program in programs if program.uuid == chosen]
            if not programs:
                raise ApiError(
                    "invalid",
                    "The request has invalid fields: program.",
                    fields={"program": ["is not a program you are admitted to"]},
                )
        rows = partner_daily_stats(partner.pk, programs, start, end)
        return Response({"data": [_stats_row(row) for row in rows]})


def _stats_row(row: PartnerDay) -> dict:
    rate = row.conversion_rate
    return {
        "date": row.day.isoformat(),
        "program": {"uuid": str(row.program.uuid), "name": row.program.name},
        "currency": row.program.currency,
        "clicks": row.clicks,
        "conversions": row.conversions,
        "commission": row.commission,
        "conversion_rate": float(rate) if rate is not None else None,
    }


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


class WebhookEndpointListView(ApiView):
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


class WebhookEndpointView(ApiView):
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


class WebhookDeliveryListView(ApiView):
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
