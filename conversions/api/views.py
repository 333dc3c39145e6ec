"""The store API (contract section 4): thin views over `conversions.services`.

Each view parses the request, calls a service and answers `store_conversion_document` in
`{"data": …}`; refusals become the contract's error shape.
"""

from collections.abc import Callable
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.http.request import RawPostDataException
from django.urls import get_script_prefix, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, UnsupportedMediaType
from rest_framework.request import Request
from rest_framework.response import Response

from conversions.api import docs
from conversions.models import Conversion, ConversionSource, ReportOutcome, ReportSource
from conversions.selectors import conversions_with_relations, store_conversion_document
from conversions.services import (
    ConversionRefused,
    amend_lead,
    amend_transaction,
    record_conversion,
)
from conversions.services.report_log import ReportVerdict, log_report
from retrack.api.authentication import IsStoreClient
from retrack.api.errors import ApiError, default_code
from retrack.api.parsers import JSONParser
from retrack.api.views import ApiView
from retrack.lib.uuids import parse_uuid
from retrack.metrics import count_report
from stores.models import EventKind, Store


def api_error(refusal: ConversionRefused) -> ApiError:
    return ApiError(refusal.code, refusal.message, refusal.status, refusal.fields)


def json_body(request: Request) -> Any:
    """The parsed body; a body without a Content-Type is refused, not read as empty."""
    if not request.content_type and request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
        raise UnsupportedMediaType("")
    return request.data


class StoreApiView(ApiView):
    permission_classes = [IsStoreClient]
    parser_classes = [JSONParser]
    kind: EventKind
    key_parameter: str
    key_field: str
    detail_route: str

    @property
    def store(self) -> Store:
        return self.request.user.store

    @property
    def actor(self) -> str:
        return f"store:{self.store.name}"

    def conversions(self) -> QuerySet[Conversion]:
        """The calling store's conversions of this view's kind."""
        return conversions_with_relations().filter(program__store=self.store, kind=self.kind)

    def respond(self, document: dict[str, Any], created: bool = False) -> Response:
        response = Response(
            {"data": document}, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
        if created:
            response["Location"] = _detail_location(self.detail_route, document["uuid"])
        return response

    def lookup(self, request: Request) -> Response:
        """The calling store's conversion with the key in the query string, or 404."""
        key = request.query_params.get(self.key_parameter, "").strip()
        if not key or "\x00" in key:
            raise ApiError(
                "invalid",
                f"Name the conversion: ?{self.key_parameter}=…",
                fields={self.key_parameter: ["is required"]},
            )
        conversions = self.conversions().filter(**{self.key_field: key})
        program = request.query_params.get("program")
        if program:
            conversions = conversions.filter(program__uuid__in=_uuid_or_nothing(program))
        found = list(conversions[:2])
        if len(found) > 1:
            raise ApiError(
                "ambiguous",
                f"{self.key_parameter} exists in several of your programs; add ?program=<uuid>.",
                fields={"program": ["is required when the key exists in several programs"]},
            )
        if not found:
            raise ApiError("not_found", "No such conversion.", status.HTTP_404_NOT_FOUND)
        return Response({"data": store_conversion_document(found[0])})

    def finalize_response(self, request: Request, response: Response, *args, **kwargs):
        if request.method == "POST":
            count_report("api", _report_outcome(response))
        return super().finalize_response(request, response, *args, **kwargs)

    def log(self, request: Request, verdict: ReportVerdict, sent: Any) -> None:
        """Log the report in the store's report log: its body only, never a header."""
        log_report(
            verdict,
            source=ReportSource.API,
            kind=self.kind,
            store_id=self.store.pk,
            payload=_raw_body(request),
            sent=sent,
        )

    def handle_report(self, request: Request, write: Callable[[Any], Any]) -> Any:
        """Run `write` on the body and log what became of the report; refusals re-raised."""
        sent = None
        try:
            sent = json_body(request)
            return write(sent)
        except ConversionRefused as refusal:
            verdict = ReportVerdict(
                ReportOutcome.REFUSED, refusal.status, refusal.code, refusal.message
            )
            self.log(request, verdict, sent)
            raise api_error(refusal) from None
        except APIException as error:
            code = getattr(error, "error_code", None) or default_code(error.status_code)
            verdict = ReportVerdict(
                ReportOutcome.REFUSED, error.status_code, code, str(error.detail)
            )
            self.log(request, verdict, sent)
            raise

    def create(self, request: Request) -> Response:
        recorded = self.handle_report(
            request,
            lambda body: record_conversion(
                self.kind,
                body,
                source=ConversionSource.API,
                store=self.store,
                idempotency_key=request.headers.get("Idempotency-Key"),
            ),
        )
        conversion = recorded.conversion
        verdict = ReportVerdict(
            ReportOutcome.CREATED if recorded.created else ReportOutcome.REPLAYED,
            201 if recorded.created else 200,
            program=conversion.program,
            conversion=conversion,
            test=conversion.test,
        )
        self.log(request, verdict, request.data)
        return self.respond(recorded.document, recorded.created)


def _detail_location(route: str, uuid: str) -> str:
    """`reverse(route, args=[uuid])`, from the route's path around its UUID, kept: resolving
    the route on every created conversion cost as much as its JSON answer."""
    before, after = _around_uuid(route, get_script_prefix(), settings.ROOT_URLCONF)
    return f"{before}{uuid}{after}"


@lru_cache(maxsize=16)
def _around_uuid(route: str, script_prefix: str, urlconf: str) -> tuple[str, str]:
    before, _, after = reverse(route, args=[_ANY_UUID]).partition(_ANY_UUID)
    return before, after


_ANY_UUID = "00000000-0000-4000-8000-000000000000"


def _raw_body(request: Request) -> bytes:
    try:
        return request._request.body
    except (RequestDataTooBig, RawPostDataException):
        return b""


def _report_outcome(response: Response) -> str:
    """`created`, `replayed` (the same report again), or the refusal's error code."""
    if response.status_code == status.HTTP_201_CREATED:
        return "created"
    if response.status_code == status.HTTP_200_OK:
        return "replayed"
    error = response.data.get("error") if isinstance(response.data, dict) else None
    return error.get("code", "error") if isinstance(error, dict) else "error"


def _uuid_or_nothing(text: str) -> list[UUID]:
    parsed = parse_uuid(text)
    return [parsed] if parsed is not None else []


class StoreApiDetailView(StoreApiView):
    def get_conversion(self, uuid) -> Conversion:
        conversion = self.conversions().filter(uuid=uuid).first()
        if conversion is None:
            # Another store's conversion is as unknown as one that does not exist.
            raise ApiError("not_found", "No such conversion.", status.HTTP_404_NOT_FOUND)
        return conversion

    def amend(self, request: Request, uuid, amend) -> Response:
        conversion = self.get_conversion(uuid)
        amended = self.handle_report(
            request, lambda body: amend(conversion, body, actor=self.actor)
        )
        verdict = ReportVerdict(
            ReportOutcome.AMENDED,
            200,
            program=conversion.program,
            conversion=conversion,
            test=conversion.test,
        )
        self.log(request, verdict, request.data)
        return self.respond(store_conversion_document(amended))


class TransactionsView(StoreApiView):
    kind = EventKind.TRANSACTION
    key_parameter = "byOrderNumber"
    key_field = "order_number"
    detail_route = "conversions-api:transaction-detail"
    query_parameters = {"get": frozenset({"byOrderNumber", "program"})}

    @extend_schema(**docs.CREATE_TRANSACTION)
    def post(self, request: Request) -> Response:
        return self.create(request)

    @extend_schema(**docs.FIND_TRANSACTION)
    def get(self, request: Request) -> Response:
        return self.lookup(request)


class LeadsView(StoreApiView):
    kind = EventKind.LEAD
    key_parameter = "byReference"
    key_field = "reference"
    detail_route = "conversions-api:lead-detail"
    query_parameters = {"get": frozenset({"byReference", "program"})}

    @extend_schema(**docs.CREATE_LEAD)
    def post(self, request: Request) -> Response:
        return self.create(request)

    @extend_schema(**docs.FIND_LEAD)
    def get(self, request: Request) -> Response:
        return self.lookup(request)


class TransactionDetailView(StoreApiDetailView):
    kind = EventKind.TRANSACTION
    detail_route = "conversions-api:transaction-detail"

    @extend_schema(**docs.GET_TRANSACTION)
    def get(self, request: Request, uuid) -> Response:
        return self.respond(store_conversion_document(self.get_conversion(uuid)))

    @extend_schema(**docs.AMEND_TRANSACTION)
    def patch(self, request: Request, uuid) -> Response:
        return self.amend(request, uuid, amend_transaction)


class LeadDetailView(StoreApiDetailView):
    kind = EventKind.LEAD
    detail_route = "conversions-api:lead-detail"

    @extend_schema(**docs.GET_LEAD)
    def get(self, request: Request, uuid) -> Response:
        return self.respond(store_conversion_document(self.get_conversion(uuid)))

    @extend_schema(**docs.AMEND_LEAD)
    def patch(self, request: Request, uuid) -> Response:
        return self.amend(request, uuid, amend_lead)
