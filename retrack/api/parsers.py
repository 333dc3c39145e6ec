"""DRF's JSON parser, answering a malformed body in the contract's error shape.

DRF (>= 3.17.2) already refuses what a JSON parser must: a body over
DATA_UPLOAD_MAX_MEMORY_SIZE (read through `request.body`, answered 413 by
`retrack.api.errors`), NaN and Infinity, and charsets that are not text. What this adds
is a clean refusal of deep nesting, and the `{"body": [...]}` field naming the problem.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from retrack.api.errors import ApiError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ApiError(
                "invalid", "The body is nested too deeply.", fields={"body": ["nests too deeply"]}
            ) from None
        except ParseError as error:
            raise ApiError(
                "invalid",
                "The body is not valid JSON.",
                fields={"body": [f"is not valid JSON: {error.detail}"]},
            ) from None
