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
        json.dumps(document, separators=(",", ":"), default=str).encode(),
    )


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
