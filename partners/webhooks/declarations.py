"""The declaration of `POST /api/v2/partner/webhooks`: it parses the body and describes it."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retrack.lib.public_addresses import URL_MAX_LENGTH
from retrack.lib.validation import Text, field_errors, refusal_summary

DESCRIPTION_MAX_LENGTH = 200


class WebhookEndpointRequest(BaseModel):
    """A webhook endpoint to register."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    url: Annotated[
        str,
        Field(
            strict=True,
            min_length=1,
            max_length=URL_MAX_LENGTH,
            description="Where to POST the events: an https URL on a public address.",
        ),
    ]
    description: Annotated[
        Text(DESCRIPTION_MAX_LENGTH), Field(description="What the endpoint is for.")
    ] = ""


class WebhookEndpointInvalid(Exception):
    """The body is not a webhook endpoint; `fields` names what is wrong (nothing written)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.message, self.fields = refusal_summary(fields)
        super().__init__(self.message)


def parse_webhook_endpoint(payload: Any) -> WebhookEndpointRequest:
    """The endpoint in `payload`, or WebhookEndpointInvalid naming every bad field."""
    if not isinstance(payload, dict):
        raise WebhookEndpointInvalid({"body": ["must be a JSON object"]})
    try:
        return WebhookEndpointRequest.model_validate(payload)
    except ValidationError as error:
        raise WebhookEndpointInvalid(field_errors(error, payload)) from None
