import pytest

from conversions.models import ChangeCounter


@pytest.fixture(autouse=True)
def change_counter(db) -> ChangeCounter:
    """The counter row a migration creates: a transactional test's flush deletes it."""
    counter, _ = ChangeCounter.objects.get_or_create(pk=1, defaults={"last_sequence": 0})
    return counter
