"""The base of every view of the store API and the partner API."""

from collections.abc import Mapping

from rest_framework.request import Request
from rest_framework.views import APIView

from retrack.api.errors import ApiError
from retrack.lib.validation import FIELDS_NAMED_MAX, echoed

UNKNOWN_PARAMETER = "is not a parameter of this call"


class ApiView(APIView):
    """An API view that refuses query parameters it does not take (contract section 4).

    A misspelled filter (`?stauts=open`) must not silently answer everything: each view
    names the parameters each of its methods takes in `query_parameters` (method → names;
    HEAD takes GET's), and any other answers 400 `parameter_unknown`, naming it in
    `fields`. A view that names none takes none.
    """

    query_parameters: Mapping[str, frozenset[str]] = {}

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        method = "get" if request.method == "HEAD" else request.method.lower()
        known = self.query_parameters.get(method, frozenset())
        unknown = [name for name in request.query_params if name not in known]
        if unknown:
            raise _parameter_unknown(unknown, known)


def _parameter_unknown(unknown: list[str], known: frozenset[str]) -> ApiError:
    # Capped, so that a query of thousands of made-up names cannot make a huge answer.
    fields = {echoed(name): [UNKNOWN_PARAMETER] for name in unknown[:FIELDS_NAMED_MAX]}
    takes = ", ".join(sorted(known)) if known else "no query parameters"
    message = f"Unknown query parameter: {', '.join(fields)}. This call takes {takes}."
    if len(unknown) > FIELDS_NAMED_MAX:
        message += f" ({len(unknown) - FIELDS_NAMED_MAX} more not named.)"
    return ApiError("parameter_unknown", message, fields=fields)
