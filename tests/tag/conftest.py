"""A program on store.example with two transaction events and a lead event, and a click."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from tests.factories import ClickFactory, EventFactory, LeadEventFactory, ProgramFactory
from tests.tag.helpers import Shop


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def shop(db) -> Shop:
    program = ProgramFactory(name="Awesome Store SE", allowed_domains=["store.example"])
    return Shop(
        program=program,
        shoes=EventFactory(program=program, name="Shoes", percent=Decimal("8")),
        socks=EventFactory(program=program, name="Socks", percent=Decimal("5")),
        newsletter=LeadEventFactory(program=program, name="Newsletter", fixed_amount=4000),
        click=ClickFactory(program=program, ref="refunder-77"),
    )
