import pytest
from django.db import IntegrityError, transaction

from conversions.models import Conversion
from stores.models import EventKind
from tests.factories import ConversionFactory, LeadEventFactory, ProductLineFactory

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_second_transaction_with_the_same_order_number():
    first = ConversionFactory(order_number="692549563")

    with pytest.raises(IntegrityError), transaction.atomic():
        ConversionFactory(click=first.click, event=first.event, order_number="692549563")
    assert Conversion.objects.count() == 1


def test_the_same_order_number_is_allowed_in_another_program():
    ConversionFactory(order_number="692549563")
    ConversionFactory(order_number="692549563")

    assert Conversion.objects.count() == 2


def test_the_database_refuses_a_second_lead_with_the_same_reference():
    first = ConversionFactory(
        kind=EventKind.LEAD, order_number=None, reference="member-1", order_sum=0, vat_sum=0
    )
    event = LeadEventFactory(program=first.program)

    with pytest.raises(IntegrityError), transaction.atomic():
        ConversionFactory(
            click=first.click,
            event=event,
            kind=EventKind.LEAD,
            order_number=None,
            reference="member-1",
            order_sum=0,
            vat_sum=0,
        )
    assert Conversion.objects.count() == 1


def test_the_database_refuses_vat_above_the_sum():
    with pytest.raises(IntegrityError):
        ConversionFactory(order_sum=100, vat_sum=101)


def test_the_database_refuses_a_negative_sum():
    with pytest.raises(IntegrityError):
        ConversionFactory(order_sum=-1, vat_sum=0)


def test_the_database_refuses_a_transaction_without_order_number():
    with pytest.raises(IntegrityError):
        ConversionFactory(order_number=None)


def test_the_database_refuses_a_product_line_with_quantity_zero():
    with pytest.raises(IntegrityError):
        ProductLineFactory(quantity=0)


def test_the_database_refuses_a_product_line_with_vat_above_its_price():
    with pytest.raises(IntegrityError):
        ProductLineFactory(price=100, vat=101)
