"""Logs: request ids, JSON lines, and nothing secret or personal in them."""

import json
import logging
import re

import pytest

from retrack.lib.logs import JsonFormatter, PlainFormatter, redact
from retrack.lib.request_ids import bind_request_id, unbind_request_id
from tests.operations.helpers import call, run_python

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def record(message: str, *args, name: str = "retrack.test", exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, exc_info)


def test_the_router_answers_the_request_id_it_was_sent():
    _, headers, _ = call("/healthz", HTTP_X_REQUEST_ID="lb-probe-42")

    assert headers["X-Request-ID"] == "lb-probe-42"


@pytest.mark.django_db
def test_the_tracking_link_answers_a_request_id_of_its_own_when_none_was_sent():
    status, headers, _ = call("/track/v2/click")

    assert status == 404
    assert GENERATED_ID.fullmatch(headers["X-Request-ID"])


def test_an_unsafe_request_id_is_replaced_not_echoed():
    _, headers, _ = call("/healthz", HTTP_X_REQUEST_ID="evil\n{} injected")

    assert GENERATED_ID.fullmatch(headers["X-Request-ID"])


@pytest.mark.django_db
def test_django_paths_answer_the_request_id_too(client):
    response = client.get("/api/v2/transactions", HTTP_X_REQUEST_ID="store-call-7")

    assert response.status_code == 401
    assert response["X-Request-ID"] == "store-call-7"


def test_json_logs_are_one_object_per_line_with_the_request_id():
    # /readyz logs why the database did not answer, inside the request.
    result = run_python(
        "import django; django.setup()\n"
        "from tests.operations.helpers import call\n"
        "status, headers, body = call('/readyz', HTTP_X_REQUEST_ID='lb-probe-42')\n"
        "print(status, headers['X-Request-ID'])\n",
        DATABASE_URL="postgres://retrack@127.0.0.1:9/retrack",
        LOG_FORMAT="json",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "503 lb-probe-42\n"
    lines = result.stderr.splitlines()
    entries = [json.loads(line) for line in lines]
    warning = next(entry for entry in entries if entry["logger"] == "retrack.health")
    assert warning["level"] == "WARNING"
    assert warning["request_id"] == "lb-probe-42"
    assert warning["message"].startswith("Readiness: the database does not answer: ")
    assert "127.0.0.0" in warning["message"]
    assert "127.0.0.1" not in result.stderr


def test_an_unknown_log_format_is_refused_at_start():
    result = run_python("import django; django.setup()", LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json, not 'xml'" in result.stderr


def test_token_secrets_keep_only_their_visible_prefix():
    secret = "rts_" + "A1b2C3d4" + "x" * 48

    assert redact(f"token {secret} was used") == "token rts_A1b2C3d4… was used"


def test_bearer_credentials_are_removed():
    assert (
        redact("Authorization: Bearer s3cr3t-metrics-token, retried")
        == "Authorization: Bearer [redacted], retried"
    )


def test_addresses_are_cut_as_anonymization_cuts_them():
    text = "from 203.0.113.77 and 2001:db8:85a3:1234:5678:8a2e:370:7334 at 06:25:33"

    assert redact(text) == "from 203.0.113.0 and 2001:db8:85a3:: at 06:25:33"


def test_addresses_stay_whole_when_the_setting_allows_it():
    assert redact("from 203.0.113.77", full_ip_addresses=True) == "from 203.0.113.77"


def test_plain_lines_carry_the_request_id_and_are_redacted():
    formatter = PlainFormatter("[%(request_id)s] %(message)s")
    token = bind_request_id("abc-123")
    try:
        line = formatter.format(record("client %s", "203.0.113.77"))
    finally:
        unbind_request_id(token)

    assert line == "[abc-123] client 203.0.113.0"


def test_a_json_line_holds_the_exception_with_its_traceback():
    try:
        raise ValueError("bad rts_A1b2C3d4SECRETSECRETSECRET")
    except ValueError:
        import sys

        line = JsonFormatter().format(record("failed", exc_info=sys.exc_info()))

    entry = json.loads(line)
    assert entry["message"] == "failed"
    assert "request_id" not in entry
    assert "Traceback" in entry["exception"]
    assert "ValueError: bad rts_A1b2C3d4…" in entry["exception"]
    assert "SECRET" not in line


def test_gunicorn_access_lines_become_json_fields_without_the_client_address():
    atoms = {
        "h": "203.0.113.77",
        "m": "GET",
        "U": "/track/v2/click",
        "s": "302",
        "B": 0,
        "M": 3,
        "a": "Mozilla/5.0",
        "{x-request-id}o": "lb-probe-42",
    }
    access = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, "%(m)s %(U)s %(s)s", (atoms,), None
    )

    entry = json.loads(JsonFormatter().format(access))

    assert entry == {
        "time": entry["time"],
        "level": "INFO",
        "logger": "gunicorn.access",
        "message": "GET /track/v2/click 302",
        "method": "GET",
        "path": "/track/v2/click",
        "status": 302,
        "bytes": 0,
        "duration_ms": 3,
        "user_agent": "Mozilla/5.0",
        "request_id": "lb-probe-42",
    }


def test_generated_request_ids_differ():
    ids = {call("/healthz")[1]["X-Request-ID"] for _ in range(3)}

    assert len(ids) == 3
    assert all(GENERATED_ID.fullmatch(request_id) for request_id in ids)
