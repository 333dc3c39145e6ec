import uuid
from datetime import UTC, datetime, timedelta

import pytest

from retrack.lib.uuids import created_between, parse_uuid, uuid7_floor

SAMPLE = uuid.UUID("0b7e4c1d-3a2f-4e8b-9c6d-5a1f2e3d4c5b")


@pytest.mark.parametrize(
    "text", ["0b7e4c1d-3a2f-4e8b-9c6d-5a1f2e3d4c5b", "0B7E4C1D-3A2F-4E8B-9C6D-5A1F2E3D4C5B"]
)
def test_it_reads_a_uuid_written_8_4_4_4_12_in_either_case(text):
    assert parse_uuid(text) == SAMPLE


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        "",
        "not a uuid",
        "0b7e4c1d-3a2f-4e8b-9c6d-5a1f2e3d4c5",
        "0b7e4c1d-3a2f-4e8b-9c6d-5a1f2e3d4c5bb",
        "0b7e4c1d-3a2f4e8b9c6d5a1f2e3d4c5b",
        "0b7e4c1d3a2f4e8b9c6d5a1f2e3d4c5b",
        "{0b7e4c1d-3a2f-4e8b-9c6d-5a1f2e3d4c5b}",
        "urn:uuid:0b7e4c1d-3a2f-4e8b-9c6d-5a1f2e3d4c5b",
        " 0b7e4c1d-3a2f-4e8b-9c6d-5a1f2e3d4c5b",
        "0b7e4c1d-3a2f-4e8b-9c6d-5a1f2e3d4c5b\n",
        "0x" + "0" * 30,
        "+" + "0" * 31,
        "0_" + "0" * 30,
        "\u0660" * 8 + "-0000-0000-0000-" + "0" * 12,
        "-" * 10_000 + "0" * 32,
    ],
)
def test_it_reads_nothing_else_as_a_uuid(value):
    # uuid.UUID() alone reads most of these: braces, urn:uuid:, no or misplaced hyphens, 0x,
    # +, underscores, non-ASCII digits.
    assert parse_uuid(value) is None


def test_a_time_range_becomes_a_key_range_widened_by_an_hour_and_exact_on_created_at():
    since = datetime(2026, 3, 1, tzinfo=UTC)
    until = datetime(2026, 3, 2, tzinfo=UTC)
    millis = int(since.timestamp() * 1000)
    hour = 3_600_000

    condition = created_between(since, until, uuid_field="pk")

    assert dict(condition.children) == {
        "pk__gte": uuid7_floor(millis - hour),
        "created_at__gte": since,
        "pk__lt": uuid7_floor(millis + 24 * hour + hour),
        "created_at__lt": until,
    }


def test_a_time_range_has_either_bound_alone_and_any_margin():
    until = datetime(2026, 3, 2, tzinfo=UTC)

    condition = created_between(until=until, margin=timedelta(0))

    assert dict(condition.children) == {
        "uuid__lt": uuid7_floor(int(until.timestamp() * 1000)),
        "created_at__lt": until,
    }
