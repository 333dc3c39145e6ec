"""Migration 0010 on PostgreSQL: today's click table, with clicks that conversions and
claims refer to, becomes the partitioned one, and back.

These tests migrate the test database itself (in transaction mode, so that the migrations'
DDL is real), and always leave it migrated to the end.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clicks.models import Click
from clicks.selectors import click_partitions, clicks_are_partitioned
from clicks.services.partitions import add_months, month_start
from conversions.models import Claim, Conversion
from tests.clicks.helpers import uuid7_at
from tests.factories import ClickFactory, ConversionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BEFORE = [("clicks", "0009_click_day_without_test_clicks")]


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def migrate_to_the_end() -> None:
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.fixture
def todays_table():
    """The click table as it was before migration 0010; migrated to the end afterwards."""
    migrate(BEFORE)
    yield
    migrate_to_the_end()


def click_at(moment: datetime, **fields) -> Click:
    return ClickFactory(uuid=uuid7_at(moment), created_at=moment, **fields)


def partition_of(click_uuid) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM clicks_click WHERE uuid = %s", [click_uuid]
        )
        return cursor.fetchone()[0]


def references_to_clicks() -> list[tuple[str, str, str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text,"
            " pg_get_constraintdef(oid), convalidated FROM pg_constraint"
            " WHERE contype = 'f' AND conparentid = 0 AND confrelid = 'clicks_click'::regclass"
            " ORDER BY 1"
        )
        return cursor.fetchall()


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'clicks_click'")
        return {name for (name,) in cursor.fetchall()}


def test_it_turns_todays_table_into_partitions_and_keeps_every_click(todays_table):
    assert clicks_are_partitioned() is False
    now = datetime.now(UTC)
    old = click_at(now - timedelta(days=500))
    converted = click_at(now - timedelta(days=40))
    conversion = ConversionFactory(click=converted)
    claimed = click_at(now - timedelta(days=3))
    Claim.objects.create(
        partner=claimed.partner,
        program=claimed.program,
        click=claimed,
        kind="transaction",
        order_number="692549563",
        ordered_at=claimed.created_at,
        sequence=1,
    )
    indexes = index_names()
    references = references_to_clicks()

    migrate_to_the_end()

    next_month = add_months(month_start(now), 1)
    first = f"clicks_click_before_{next_month:%Y_%m}"
    assert clicks_are_partitioned() is True
    assert [partition.name for partition in click_partitions()] == [
        first,
        *(f"clicks_click_{add_months(next_month, n):%Y_%m}" for n in range(3)),
    ]
    assert {partition_of(click.uuid) for click in (old, converted, claimed)} == {first}
    assert Click.objects.count() == 3
    assert Conversion.objects.get(pk=conversion.pk).click == converted
    assert index_names() == indexes
    assert references_to_clicks() == references
    # A click made now, and one made next month, land in their partitions.
    now_click = ClickFactory()
    next_month_click = click_at(next_month + timedelta(days=2))
    assert partition_of(now_click.uuid) == first
    assert partition_of(next_month_click.uuid) == f"clicks_click_{next_month:%Y_%m}"
    ConversionFactory(click=next_month_click)


def test_reversing_it_makes_one_table_again_with_every_click(todays_table):
    converted = click_at(datetime.now(UTC) - timedelta(days=40))
    ConversionFactory(click=converted)
    migrate_to_the_end()
    references = references_to_clicks()
    indexes = index_names()
    next_month = add_months(month_start(datetime.now(UTC)), 1)
    later = click_at(next_month + timedelta(days=2))

    migrate(BEFORE)

    assert clicks_are_partitioned() is False
    assert set(Click.objects.values_list("uuid", flat=True)) == {converted.uuid, later.uuid}
    assert partition_of(later.uuid) == "clicks_click"
    assert index_names() == indexes
    assert references_to_clicks() == references
