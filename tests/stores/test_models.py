from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from stores.models import Event, EventKind
from tests.factories import EventFactory, ProgramFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_it_refuses_two_programs_of_one_store_with_the_same_name():
    program = ProgramFactory(name="Awesome Store SE")

    with pytest.raises(IntegrityError):
        ProgramFactory(store=program.store, name="Awesome Store SE")


def test_it_allows_the_same_program_name_in_two_stores():
    ProgramFactory(name="Outlet", store=StoreFactory())
    ProgramFactory(name="Outlet", store=StoreFactory())


def test_it_refuses_a_currency_that_is_not_three_capital_letters():
    with pytest.raises(IntegrityError):
        ProgramFactory(currency="sek")


def test_it_refuses_an_event_with_both_percent_and_fixed_amount():
    with pytest.raises(IntegrityError):
        EventFactory(percent=Decimal("5"), fixed_amount=100)


def test_it_refuses_an_event_with_neither_percent_nor_fixed_amount():
    with pytest.raises(IntegrityError):
        EventFactory(percent=None, fixed_amount=None)


def test_it_refuses_a_percentage_over_100():
    with pytest.raises(IntegrityError):
        EventFactory(percent=Decimal("100.001"))


def test_it_refuses_a_negative_fixed_amount():
    with pytest.raises(IntegrityError):
        EventFactory(percent=None, fixed_amount=-1, kind=EventKind.LEAD)


def test_it_refuses_two_events_of_one_program_with_the_same_name():
    event = EventFactory(name="Shoes")

    with pytest.raises(IntegrityError), transaction.atomic():
        EventFactory(program=event.program, name="Shoes")
    assert Event.objects.filter(name="Shoes").count() == 1
