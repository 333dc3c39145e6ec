"""How the OpenAPI document is generated: from the declarations that parse, not by hand.

- Request bodies are the pydantic declarations themselves (`conversions.payloads`): their
  JSON Schema (validation mode) is translated to OpenAPI 3.0.
- Every request body is required; every operation has a `default` error answer.
- Store calls name the `storeToken` scheme and partner calls `partnerToken`, from the
  view's permission class; a 401 answer declares its `WWW-Authenticate` header.
"""

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from retrack.api.authentication import IsPartnerClient, IsStoreClient

STORE_SCHEME = "storeToken"
PARTNER_SCHEME = "partnerToken"


def openapi_3_0(schema: Any) -> Any:
    """A pydantic JSON Schema (2020-12) made OpenAPI 3.0: `const` as an enum, no titles."""
    if isinstance(schema, list):
        return [openapi_3_0(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value is None:
            continue
        if key == "const":
            result["enum"] = [value]
            continue
        # A property named "title" or "default" is a name, not a keyword.
        result[key] = (
            {name: openapi_3_0(item) for name, item in value.items()}
            if key == "properties"
            else openapi_3_0(value)
        )
    return result


class PydanticDeclaration(OpenApiSerializerExtension):
    """A pydantic model in `@extend_schema(request=…)`: the body's schema is its own."""

    target_class = "pydantic.BaseModel"
    match_subclasses = True
    priority = 1  # over drf-spectacular's contrib extension, which documents output

    def get_name(self, auto_schema, direction):
        return self.target.__name__

    def map_serializer(self, auto_schema, direction):
        mode = "validation" if direction == "request" else "serialization"
        schema = self.target.model_json_schema(
            ref_template="#/components/schemas/{model}", mode=mode
        )
        for name, definition in schema.pop("$defs", {}).items():
            auto_schema.registry.register_on_missing(
                ResolvedComponent(
                    name=name,
                    type=ResolvedComponent.SCHEMA,
                    object=name,
                    schema=openapi_3_0(definition),
                )
            )
        return openapi_3_0(schema)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "retrack.api.authentication.BearerTokenAuthentication"
    name = [STORE_SCHEME, PARTNER_SCHEME]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A store token (`rts_…`), issued in the back office: it reaches "
                "only its own store's programs and conversions.",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A partner token (`rtp_…`): it reaches only its own partner's "
                "clicks and conversions.",
            },
        ]

    def get_security_requirement(self, auto_schema):
        permissions = auto_schema.view.get_permissions()
        if any(isinstance(permission, IsPartnerClient) for permission in permissions):
            return {PARTNER_SCHEME: []}
        if any(isinstance(permission, IsStoreClient) for permission in permissions):
            return {STORE_SCHEME: []}
        return None


class RetrackAutoSchema(AutoSchema):
    """drf-spectacular's generator, with Retrack's rules for bodies and answers."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body is not None:
            # Every call that takes a body needs one: an empty PATCH is refused.
            body["required"] = True
        return body


_DEFAULT_ANSWER = {
    "description": "Any other refusal in the same shape (e.g. 405, 406, 429, 500). Codes may "
    "be added: handle a `code` you do not know by its HTTP status.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
}
_WWW_AUTHENTICATE = {
    "description": '`Bearer realm="retrack"`: the token scheme the API takes.',
    "schema": {"type": "string"},
}


def complete_answers(result, generator, request, public):
    """Every operation answers other errors in the error shape; every 401 names its scheme."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            responses.setdefault("default", _DEFAULT_ANSWER)
            if "401" in responses:
                responses["401"].setdefault("headers", {})["WWW-Authenticate"] = _WWW_AUTHENTICATE
    return result
