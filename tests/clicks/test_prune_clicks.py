from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from clicks.models import Click
from conversions.models import Claim
from tests.clicks.helpers import uuid7_at
from tests.factories import ClickFactory, ConversionFactory, ProgramFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    return ProgramFactory(attribution_days=30, claim_days=90)


def click_made(program, days_ago: float) -> Click:
    moment = timezone.now() - timedelta(days=days_ago)
    return ClickFactory(program=program, uuid=uuid7_at(moment), created_at=moment)


def prune(*arguments: str) -> str:
    out = StringIO()
    call_command("prune_clicks", *arguments, stdout=out)
    return out.getvalue()


def remaining() -> set:
    return set(Click.objects.values_list("uuid", flat=True))


def test_it_deletes_old_clicks_that_no_conversion_refers_to(program):
    old = click_made(program, 401)
    converted = click_made(program, 500)
    ConversionFactory(click=converted)
    young = click_made(program, 399)

    output = prune("--older-than", "400d")

    assert remaining() == {converted.uuid, young.uuid}
    assert old.uuid not in remaining()
    assert output.startswith("Deleted 1 clicks made before ")


def test_it_keeps_old_clicks_a_claim_refers_to(program):
    claimed = click_made(program, 450)
    Claim.objects.create(
        partner=claimed.partner,
        program=program,
        click=claimed,
        kind="transaction",
        order_number="692549563",
        ordered_at=claimed.created_at,
        sequence=1,
    )
    old = click_made(program, 460)

    prune("--older-than", "400d")

    assert remaining() == {claimed.uuid}
    assert old.uuid not in remaining()


def test_it_works_in_batches_around_converted_clicks(program):
    clicks = [click_made(program, days_ago) for days_ago in range(401, 408)]
    for converted in clicks[1::3]:
        ConversionFactory(click=converted)

    output = prune("--older-than", "400d", "--batch-size", "2")

    assert remaining() == {clicks[1].uuid, clicks[4].uuid}
    assert output.startswith("Deleted 5 clicks")


def test_it_does_nothing_the_second_time(program):
    click_made(program, 450)
    ConversionFactory(click=click_made(program, 460))
    prune("--older-than", "400d")
    after_first = remaining()

    output = prune("--older-than", "400d")

    assert output.startswith("Deleted 0 clicks")
    assert remaining() == after_first


def test_it_refuses_an_age_within_an_attribution_window_and_deletes_nothing(program):
    ProgramFactory(name="Long window", attribution_days=60, claim_days=100)
    click_made(program, 150)
    before = remaining()

    with pytest.raises(CommandError, match="clicks up to 160 days old"):
        prune("--older-than", "155d")

    assert remaining() == before


@pytest.mark.parametrize("age", ["400", "400x", "-400d", "0h", "four hundred days"])
def test_it_refuses_a_bad_age_and_deletes_nothing(program, age):
    click_made(program, 500)
    before = remaining()

    with pytest.raises(CommandError, match="--older-than"):
        prune("--older-than", age)

    assert remaining() == before
