"""The click table's monthly partitions on PostgreSQL (clicks.services.partitions).

Partitions are made in months far ahead (2031), where no other test puts clicks; the
tests run in a transaction, so that every partition they make or drop is rolled back.
"""

import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from clicks import services
from clicks.models import Click
from clicks.selectors import click_partitions, clicks_are_partitioned
from clicks.services import anonymize_clicks_before
from clicks.services.partitions import (
    create_click_partitions,
    drop_click_partitions_before,
    first_key_at,
    kept_clicks_until,
    make_partition_for,
)
from clicks.tasks import whole_months
from conversions.models import Claim, Conversion
from retrack.jobs.models import JobRun
from tests.clicks.helpers import link, open_link, query_of, uuid7_at
from tests.factories import ClickFactory, ConversionFactory, ProgramFactory

pytestmark = pytest.mark.django_db

JANUARY_2031 = datetime(2031, 1, 1, tzinfo=UTC)
FEBRUARY_2031 = datetime(2031, 2, 1, tzinfo=UTC)


def click_at(moment: datetime, **fields) -> Click:
    return ClickFactory(uuid=uuid7_at(moment), created_at=moment, **fields)


def partition_of(click: Click) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM clicks_click WHERE uuid = %s", [click.uuid]
        )
        return cursor.fetchone()[0]


def partition_names() -> list[str]:
    return [partition.name for partition in click_partitions()]


def references_to_clicks() -> list[tuple[str, str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text, convalidated"
            " FROM pg_constraint WHERE contype = 'f' AND conparentid = 0"
            " AND confrelid = 'clicks_click'::regclass ORDER BY 1"
        )
        return cursor.fetchall()


def claim_on(click: Click) -> Claim:
    return Claim.objects.create(
        partner=click.partner,
        program=click.program,
        click=click,
        kind="transaction",
        order_number="692549563",
        ordered_at=click.created_at,
        sequence=1,
    )


def test_sqlite_keeps_one_table():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only: PostgreSQL partitions the clicks")

    assert clicks_are_partitioned() is False
    assert click_partitions() == []
    assert create_click_partitions(now=JANUARY_2031) == []
    assert drop_click_partitions_before(FEBRUARY_2031) == 0


def test_the_command_says_there_is_nothing_to_make_on_sqlite():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only: PostgreSQL partitions the clicks")
    output = StringIO()

    call_command("create_click_partitions", stdout=output)

    assert output.getvalue() == "Clicks are one table here (SQLite): no partitions to make.\n"
    assert JobRun.objects.get(name="create_click_partitions").succeeded is True


@pytest.mark.postgres
def test_it_makes_this_month_and_three_ahead_once():
    made = create_click_partitions(now=datetime(2031, 1, 20, tzinfo=UTC))
    again = create_click_partitions(now=datetime(2031, 1, 21, tzinfo=UTC))

    assert made == [
        "clicks_click_2031_01",
        "clicks_click_2031_02",
        "clicks_click_2031_03",
        "clicks_click_2031_04",
    ]
    assert again == []
    february = next(p for p in click_partitions() if p.name == "clicks_click_2031_02")
    assert (february.since, february.until) == (
        first_key_at(FEBRUARY_2031),
        first_key_at(datetime(2031, 3, 1, tzinfo=UTC)),
    )


@pytest.mark.postgres
def test_a_click_lands_in_its_months_partition():
    create_click_partitions(now=JANUARY_2031)
    last_of_january = click_at(FEBRUARY_2031 - timedelta(milliseconds=1))
    first_of_february = click_at(FEBRUARY_2031)

    assert partition_of(last_of_january) == "clicks_click_2031_01"
    assert partition_of(first_of_february) == "clicks_click_2031_02"


@pytest.mark.postgres
def test_the_command_records_the_partitions_it_made():
    output = StringIO()

    call_command("create_click_partitions", stdout=output)

    assert output.getvalue() == "Every partition needed was there already.\n"
    assert JobRun.objects.get(name="create_click_partitions").succeeded is True


@pytest.mark.postgres
def test_dropping_a_month_keeps_the_clicks_conversions_and_claims_refer_to():
    create_click_partitions(now=JANUARY_2031)
    converted = click_at(datetime(2031, 1, 3, tzinfo=UTC))
    conversion = ConversionFactory(click=converted)
    claimed = click_at(datetime(2031, 1, 4, tzinfo=UTC))
    claim_on(claimed)
    forgotten = [click_at(datetime(2031, 1, day, tzinfo=UTC)) for day in (5, 6, 31)]
    february = click_at(datetime(2031, 2, 1, 0, 0, 1, tzinfo=UTC))

    dropped = drop_click_partitions_before(FEBRUARY_2031)

    assert dropped == len(forgotten)
    assert set(Click.objects.values_list("uuid", flat=True)) == {
        converted.uuid,
        claimed.uuid,
        february.uuid,
    }
    assert partition_of(converted) == "clicks_click_2031_01_kept"
    assert partition_of(february) == "clicks_click_2031_02"
    assert "clicks_click_2031_01" not in partition_names()
    assert Conversion.objects.get(pk=conversion.pk).click_id == converted.uuid
    assert kept_clicks_until() == first_key_at(FEBRUARY_2031)
    # The foreign keys are back, checked, and still refuse a click that does not exist.
    assert references_to_clicks() == [
        ("conversions_claim", "clicks_click", True),
        ("conversions_conversion", "clicks_click", True),
    ]
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE conversions_conversion SET click_id = %s WHERE id = %s",
            [forgotten[0].uuid, conversion.pk],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.postgres
def test_dropping_again_changes_nothing():
    create_click_partitions(now=JANUARY_2031)
    converted = click_at(datetime(2031, 1, 3, tzinfo=UTC))
    ConversionFactory(click=converted)
    drop_click_partitions_before(FEBRUARY_2031)
    names = partition_names()

    dropped = drop_click_partitions_before(FEBRUARY_2031)

    assert dropped == 0
    assert partition_names() == names
    assert list(Click.objects.values_list("uuid", flat=True)) == [converted.uuid]


@pytest.mark.postgres
def test_it_keeps_a_month_not_all_past_the_moment():
    create_click_partitions(now=JANUARY_2031)
    january = click_at(datetime(2031, 1, 3, tzinfo=UTC))

    dropped = drop_click_partitions_before(datetime(2031, 1, 31, 23, tzinfo=UTC))

    assert dropped == 0
    assert partition_of(january) == "clicks_click_2031_01"


@pytest.mark.postgres
def test_anonymizing_works_across_partitions():
    create_click_partitions(now=JANUARY_2031)
    old = click_at(datetime.now(UTC) - timedelta(days=100))
    january = click_at(datetime(2031, 1, 20, tzinfo=UTC))
    february = click_at(datetime(2031, 2, 10, tzinfo=UTC))
    young = click_at(datetime(2031, 2, 20, tzinfo=UTC))

    anonymized = anonymize_clicks_before(datetime(2031, 2, 15, tzinfo=UTC), batch_size=2)

    assert anonymized == 3
    done = set(Click.objects.filter(is_anonymized=True).values_list("uuid", flat=True))
    assert done == {old.uuid, january.uuid, february.uuid}
    assert young.uuid not in done
    assert Click.objects.get(pk=february.pk).ip_address == "192.0.2.0"


@pytest.mark.postgres
def test_pruning_by_whole_months_goes_back_to_the_start_of_a_month():
    moment = whole_months(datetime(2026, 3, 17, 8, 30, tzinfo=UTC))

    assert moment == datetime(2026, 3, 1, tzinfo=UTC)


def test_pruning_by_whole_months_keeps_the_exact_age_on_one_table():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only: PostgreSQL partitions the clicks")

    moment = whole_months(datetime(2026, 3, 17, 8, 30, tzinfo=UTC))

    assert moment == datetime(2026, 3, 17, 8, 30, tzinfo=UTC)


@pytest.mark.postgres
def test_the_prune_command_by_whole_months_spares_the_rest_of_the_month():
    program = ProgramFactory(attribution_days=30, claim_days=90)
    age = timedelta(days=400)
    oldest_kept = datetime.now(UTC) - age
    month = oldest_kept.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    earlier_month = click_at(month - timedelta(hours=1), program=program)
    same_month = click_at(month + (oldest_kept - month) / 2, program=program)
    output = StringIO()

    call_command("prune_clicks", "--older-than", "400d", "--whole-months", stdout=output)

    assert set(Click.objects.values_list("uuid", flat=True)) == {same_month.uuid}
    assert not Click.objects.filter(pk=earlier_month.pk).exists()
    assert output.getvalue().startswith(f"Deleted 1 clicks made before {month:%Y-%m-%d} 00:00 UTC")


MARCH_2040 = datetime(2040, 3, 9, 12, tzinfo=UTC)


@pytest.fixture
def clicks_of_march_2040(monkeypatch):
    """New clicks get UUIDv7s of March 2040, a month no job has made; its partition, made
    by the click path, is dropped again afterwards (the test's DDL is not rolled back)."""
    monkeypatch.setattr(services, "uuid7", lambda: uuid7_at(MARCH_2040))
    yield
    Click.objects.filter(uuid__gte=first_key_at(datetime(2040, 3, 1, tzinfo=UTC))).delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('clicks_click_2040_03')")
        if cursor.fetchone()[0] is not None:
            cursor.execute("ALTER TABLE clicks_click DETACH PARTITION clicks_click_2040_03")
            cursor.execute("DROP TABLE clicks_click_2040_03")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_click_path_makes_a_missing_month_and_stores_the_click(
    client, partner, program, clicks_of_march_2040
):
    assert "clicks_click_2040_03" not in partition_names()

    response = open_link(client, link(partner, program, ref="38315327"))

    click = Click.objects.get(ref="38315327")
    assert response.status_code == 302
    assert query_of(response["Location"])["click"] == [str(click.uuid)]
    assert partition_of(click) == "clicks_click_2040_03"


@pytest.mark.postgres
def test_inside_a_transaction_the_click_path_makes_no_partition():
    assert make_partition_for(uuid7_at(MARCH_2040)) is False
    assert "clicks_click_2040_03" not in partition_names()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_click_path_makes_no_partition_for_a_key_that_is_not_a_uuid7():
    partitions = partition_names()

    assert make_partition_for(uuid.UUID("f47ac10b-58cc-4372-a567-0e02b2c3d479")) is False
    assert partition_names() == partitions
