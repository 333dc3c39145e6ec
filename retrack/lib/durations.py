"""Ages written the way operators write them in a crontab: 90d, 12h, 30m."""

import re
from datetime import timedelta

MAX_AGE = timedelta(days=36500)
_AGE = re.compile(r"^([0-9]{1,9})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_age(text: str) -> timedelta:
    """`90d`, `12h` or `30m` as a timedelta; ValueError for anything else, 0 or over 100 years."""
    match = _AGE.match(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not an age: write a whole number and a unit, d (days), h (hours) "
            "or m (minutes), e.g. 90d"
        )
    age = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if age <= timedelta(0):
        raise ValueError(f"{text!r} is not an age: it must be more than zero")
    if age > MAX_AGE:
        raise ValueError(f"{text!r} is more than 100 years")
    return age
