"""Answers the WSGI router sends itself, before Django's request cycle."""

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    """A status, headers and body, ready for `start_response`."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


def json_answer(status: int, document: Any) -> Answer:
    """`document` as a JSON body that no cache keeps."""
    return Answer(
        status,
        [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
        json.dumps(document, separators=(",", ":"), default=_json_value).encode(),
    )


def _json_value(value: Any) -> str:
    """Times as ISO 8601 (`2026-11-29T07:41:28+00:00`), anything else as its text."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def method_not_allowed(*allowed: str) -> Answer:
    return Answer(
        405,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Allow", ", ".join(allowed)),
            ("Cache-Control", "no-store"),
        ],
        b"Method not allowed.\n",
    )
