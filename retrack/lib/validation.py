"""Building blocks of the input declarations: strict field types and their error wording.

The declarations (pydantic models in `conversions.payloads` and `stores.onboarding`) both
parse input and describe it in the OpenAPI document. The types here carry the shared
rules, so that a rule such as "no NUL characters" is written once; `field_errors` turns a
refusal into the contract's `{"products[1].quantity": ["must be at least 1"]}`, naming
each field as the caller sent it.
"""

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from django.core.exceptions import ValidationError as FormValidationError
from pydantic import AfterValidator, Field, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError

from retrack.lib.uuids import parse_uuid

BIGINT_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
# Explicit embeddings, overrides and isolates: they make text display as something else.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# A refusal names at most this many fields, so that a body of thousands of unknown keys
# cannot make an answer many times its own size.
FIELDS_NAMED_MAX = 50
# Echoed field names are cut short so that a hostile key cannot blow up the error body.
ECHOED_NAME_MAX_LENGTH = 100

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "string_unicode": "must be valid Unicode text",
    "uuid_type": "must be a UUID string",
    "uuid_parsing": "must be a UUID",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a list",
    "literal_error": "must be {expected}",
}


def text_problem(value: str) -> str | None:
    """What makes `value` unfit to store and show, or None: NUL and bidi control characters."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not BIDI_CONTROLS.isdisjoint(value):
        return "must not contain bidirectional control characters (U+202A-202E, U+2066-2069)"
    return None


def validate_text(value: str) -> None:
    """`text_problem` as a Django validator, for back-office forms."""
    problem = text_problem(value)
    if problem:
        raise FormValidationError(problem[0].upper() + problem[1:] + ".", code="text_forbidden")


def _checked_text(value: Any, handler: Callable[[Any], Any]) -> Any:
    text = handler(value)
    problem = text_problem(text)
    if problem:
        raise PydanticCustomError("text_forbidden", problem)
    return text


def _minor_units(value: Any, handler: Callable[[Any], Any]) -> Any:
    # bool is an int in Python, but `true` is not an amount; strict mode refuses it too.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("not_minor_units", "must be an integer (minor units)")
    return handler(value)


def refused_as(message: str) -> WrapValidator:
    """Word any refusal of the annotated field as one `message` (e.g. a format's rule)."""

    def wrap(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("invalid_format", message) from None

    return WrapValidator(wrap)


def obeys(rule: Callable[[Any], str | None]) -> AfterValidator:
    """Refuse the annotated field with the problem `rule` finds in its value, if any."""

    def check(value: Any) -> Any:
        problem = rule(value)
        if problem:
            raise PydanticCustomError("rule", problem)
        return value

    return AfterValidator(check)


def listed(
    *, not_a_list: str, max_items: int, too_many: str, null_is_absent: bool = True
) -> WrapValidator:
    """A list refused as a whole, not item by item, when it is no list or far too long.

    With `null_is_absent`, `null` stands for an absent list.
    """

    def wrap(value: Any, handler: Callable[[Any], Any]) -> Any:
        if value is None and null_is_absent:
            return None
        if not isinstance(value, list):
            raise PydanticCustomError("not_a_list", not_a_list)
        if len(value) > max_items:
            raise PydanticCustomError("too_many_items", too_many)
        return handler(value)

    return WrapValidator(wrap)


def _amount(minimum: int, maximum: int, fmt: str) -> Any:
    return Annotated[
        int,
        Field(strict=True, ge=minimum, le=maximum, json_schema_extra={"format": fmt}),
        WrapValidator(_minor_units),
    ]


# Money in minor units (10100 means 101.00): what a PostgreSQL BIGINT holds.
Amount = _amount(0, BIGINT_MAX, "int64")
# Units on a product line.
Quantity = _amount(1, INT32_MAX, "int32")


def _uuid(value: Any, handler: Callable[[Any], Any]) -> Any:
    if not isinstance(value, str):
        return handler(value)  # refused as "must be a UUID string"
    parsed = parse_uuid(value)
    if parsed is None:
        raise PydanticCustomError("uuid_parsing", _MESSAGES["uuid_parsing"])
    return parsed


# A UUID written as Retrack writes them (`retrack.lib.uuids.parse_uuid`, the one reader of
# UUIDs): pydantic's own would also take braces, `urn:uuid:` and no hyphens.
Uuid = Annotated[uuid.UUID, WrapValidator(_uuid)]


# The same rule as `text_problem`, for the OpenAPI document: no NUL, no bidi control,
# and (when required) something besides white space.
_FORBIDDEN = "\\u0000" + "".join(f"\\u{ord(c):04x}" for c in sorted(BIDI_CONTROLS))
_TEXT_PATTERN = f"^[^{_FORBIDDEN}]*$"
_REQUIRED_TEXT_PATTERN = f"^[^{_FORBIDDEN}]*[^{_FORBIDDEN}\\s][^{_FORBIDDEN}]*$"


def text_pattern(*, required: bool) -> str:
    """The regular expression the OpenAPI document gives for a `Text` field."""
    return _REQUIRED_TEXT_PATTERN if required else _TEXT_PATTERN


def Text(max_length: int, *, required: bool = False) -> Any:  # noqa: N802 (a type factory)
    """A string, trimmed, at most `max_length` characters, free of NUL and bidi controls."""
    pattern = text_pattern(required=required)
    return Annotated[
        str,
        Field(
            strict=True,
            min_length=1 if required else 0,
            max_length=max_length,
            json_schema_extra={"pattern": pattern},
        ),
        WrapValidator(_checked_text),
    ]


def _path(location: tuple[str | int, ...], root: str) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or root


def echoed(name: str) -> str:
    """A caller-chosen key made safe to echo back: valid UTF-8 and short."""
    safe = name.encode("utf-8", "backslashreplace").decode("utf-8")
    return safe if len(safe) <= ECHOED_NAME_MAX_LENGTH else safe[:ECHOED_NAME_MAX_LENGTH] + "…"


def _message(error: Any) -> list[str]:
    context = error.get("ctx") or {}
    if "messages" in context:
        return list(context["messages"])
    kind = error["type"]
    if kind == "too_long" and isinstance(error.get("input"), str):
        kind = "string_too_long"
    template = _MESSAGES.get(kind)
    if template is None:
        return [error["msg"]]
    return [template.format(**context)]


def _is_object_at(source: Any, location: tuple[str | int, ...]) -> bool:
    for part in location:
        try:
            source = source[part]
        except (KeyError, IndexError, TypeError):
            return False
    return isinstance(source, dict)


def field_errors(
    error: ValidationError, source: Any = None, *, root: str = "body"
) -> dict[str, list[str]]:
    """Each refused field of `source`, named as sent (`products[1].quantity`), with messages.

    A refusal of `source` as a whole is named `root`.
    """
    fields: dict[str, list[str]] = {}
    for detail in error.errors(include_url=False):
        location = tuple(detail["loc"])
        messages = _message(detail)
        if detail["type"] == "extra_forbidden":
            location = (*location[:-1], echoed(str(location[-1])))
        elif detail["type"] == "string_unicode" and _is_object_at(source, location):
            # A key that is no valid Unicode (a lone surrogate) names no known field.
            location, messages = (
                (*location, echoed(detail["input"])),
                [_MESSAGES["extra_forbidden"]],
            )
        fields.setdefault(_path(location, root), []).extend(messages)
    return fields


def refusal_summary(fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The message of a refusal naming `fields`, and the fields, cut to FIELDS_NAMED_MAX.

    The cut keeps an answer to a body of thousands of unknown keys small; the message
    says how many more there were.
    """
    names = sorted(fields, key=str)
    if len(names) <= FIELDS_NAMED_MAX:
        return f"The request has invalid fields: {', '.join(names)}.", fields
    named = names[:FIELDS_NAMED_MAX]
    left_out = len(names) - FIELDS_NAMED_MAX
    message = (
        f"The request has {len(names)} invalid fields; the first {FIELDS_NAMED_MAX} are "
        f"named: {', '.join(named)}, and {left_out} more."
    )
    return message, {name: fields[name] for name in named}


def several(*messages: str) -> PydanticCustomError:
    """One refusal of a field that carries several messages (e.g. two sums that disagree)."""
    return PydanticCustomError("several", "; ".join(messages), {"messages": messages})
