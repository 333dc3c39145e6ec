from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from conversions.models import Conversion, ConversionChange
from tests.factories import ConversionFactory

pytestmark = pytest.mark.django_db


def test_it_approves_what_is_due_and_says_how_many(shop):
    now = timezone.now()
    for days in (46, 60):
        ConversionFactory(click=shop.click, event=shop.shoes, created_at=now - timedelta(days=days))
    ConversionFactory(click=shop.click, event=shop.shoes, created_at=now - timedelta(days=10))
    first, second = StringIO(), StringIO()

    call_command("approve_due_conversions", "--batch-size", "1", stdout=first)
    call_command("approve_due_conversions", stdout=second)

    assert first.getvalue() == "Approved 2 conversions.\n"
    assert second.getvalue() == "Approved 0 conversions.\n"
    assert Conversion.objects.filter(status="approved").count() == 2
    assert ConversionChange.objects.filter(actor="system:auto-approval").count() == 2


def test_it_refuses_a_batch_size_below_one(shop):
    ConversionFactory(
        click=shop.click, event=shop.shoes, created_at=timezone.now() - timedelta(days=46)
    )

    with pytest.raises(CommandError):
        call_command("approve_due_conversions", "--batch-size", "0")

    assert Conversion.objects.get().status == "pending"


def test_it_refuses_a_batch_size_that_is_not_a_number():
    with pytest.raises(CommandError):
        call_command("approve_due_conversions", "--batch-size", "many")
