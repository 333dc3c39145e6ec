"""A JSON parser that answers every malformed body with the contract's error shape."""

import json

from django.conf import settings
from rest_framework import parsers, status

from retrack.api.errors import ApiError


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with the size limit enforced and deep nesting refused cleanly."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise ApiError(
                "payload_too_large",
                f"The body is larger than {limit} bytes.",
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        encoding = parsers.get_encoding(parser_context or {})
        try:
            return json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except RecursionError:
            raise ApiError(
                "invalid", "The body is nested too deeply.", fields={"body": ["nests too deeply"]}
            ) from None
        except ValueError as error:
            raise ApiError(
                "invalid",
                "The body is not valid JSON.",
                fields={"body": [f"is not valid JSON: {error}"]},
            ) from None
