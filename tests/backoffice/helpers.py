"""Helpers shared by the back-office tests."""

import os
import uuid
from datetime import datetime

from retrack.lib.uuids import uuid7_floor


def uuid7_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 made at `moment`, as the click path would have made it then."""
    floor = uuid7_floor(int(moment.timestamp() * 1000))
    return uuid.UUID(int=floor.int | int.from_bytes(os.urandom(7), "big"))


def listed(response) -> list:
    """The objects on a changelist page, in the order shown."""
    assert response.status_code == 200
    return list(response.context["cl"].result_list)
