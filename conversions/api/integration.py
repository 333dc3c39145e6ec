"""The store API's integration calls (contract section 8): test clicks and the report log."""

from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from clicks.services import make_test_click
from conversions.api import docs
from conversions.api.serializers import ReportsQuery
from conversions.api.views import api_error, json_body
from conversions.payloads import parse_test_click
from conversions.refusals import ConversionRefused
from conversions.selectors import report_document, store_reports
from retrack.api.authentication import IsStoreClient
from retrack.api.errors import ApiError
from retrack.api.parsers import JSONParser
from retrack.api.views import ApiView
from stores.models import Program


class TestClicksView(ApiView):
    permission_classes = [IsStoreClient]
    parser_classes = [JSONParser]

    @extend_schema(**docs.CREATE_TEST_CLICK)
    def post(self, request: Request) -> Response:
        try:
            body = parse_test_click(json_body(request))
        except ConversionRefused as refusal:
            raise api_error(refusal) from None
        program = Program.objects.filter(store=request.user.store, uuid=body.program).first()
        if program is None:
            # Another store's program is as unknown as one that does not exist.
            raise ApiError(
                "program_not_found",
                "None of your programs has this UUID.",
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                {"program": ["is not one of your programs"]},
            )
        click = make_test_click(program, body.deeplink or None)
        document = {"uuid": str(click.click_uuid), "test": True, "url": click.location}
        return Response({"data": document}, status=status.HTTP_201_CREATED)


class ReportsView(ApiView):
    permission_classes = [IsStoreClient]
    query_parameters = {"get": frozenset(ReportsQuery().fields)}

    @extend_schema(**docs.LIST_REPORTS)
    def get(self, request: Request) -> Response:
        query = ReportsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        entries, has_more = store_reports(
            request.user.store.pk,
            limit=options["limit"],
            before=options.get("cursor"),
            outcome=options.get("outcome"),
            source=options.get("source"),
            program_uuid=options.get("program"),
        )
        next_cursor: UUID | None = entries[-1].uuid if entries else options.get("cursor")
        return Response(
            {
                "data": [report_document(entry) for entry in entries],
                "next_cursor": str(next_cursor) if next_cursor else None,
                "has_more": has_more,
            }
        )
