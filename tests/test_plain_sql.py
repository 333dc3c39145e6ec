"""The store API's hand-written reads and inserts answer what the ORM would, on both backends."""

import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clicks.models import Click
from clicks.selectors import reported_click
from conversions.models import (
    Conversion,
    ConversionFlag,
    FlagCode,
    ProductLine,
    ReportLogEntry,
    ReportOutcome,
    ReportSource,
)
from partners.models import WebhookEndpoint
from retrack.lib.plain_sql import fetch_row, fetch_rows, insert_instances, stored_as_given
from stores.models import EventKind, Store
from stores.selectors import program_events
from tests.factories import (
    ClickFactory,
    ConversionFactory,
    EventFactory,
    LeadEventFactory,
    ProgramFactory,
)

pytestmark = pytest.mark.django_db


def _values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


def test_it_loads_a_click_with_its_program_store_and_partner_as_the_orm_does():
    created = ClickFactory(ref="r-1", ip_address="192.0.2.7", is_bot=True)
    expected = Click.objects.select_related("program__store", "partner").get(pk=created.pk)

    click, events, partner_has_webhooks = reported_click(created.pk)

    assert _values(click) == _values(expected)
    assert events == {}
    assert partner_has_webhooks is False
    with CaptureQueriesContext(connection) as queries:
        assert _values(click.program) == _values(expected.program)
        assert _values(click.program.store) == _values(expected.program.store)
        assert _values(click.partner) == _values(expected.partner)
    assert len(queries) == 0
    assert click._state.adding is False


def test_it_reads_whether_the_clicks_partner_has_an_active_webhook_endpoint():
    click = ClickFactory()
    other = ClickFactory()
    for partner, active in [(click.partner, True), (other.partner, False)]:
        WebhookEndpoint.objects.create(
            partner=partner, url="https://hooks.example/retrack", secret="s", active=active
        )

    assert reported_click(click.pk).partner_has_webhooks is True
    assert reported_click(other.pk).partner_has_webhooks is False
    # One row per event found: the answer is the same with several.
    events = EventFactory.create_batch(2, program=click.program)
    found = reported_click(click.pk, {event.uuid for event in events})
    assert (len(found.events), found.partner_has_webhooks) == (2, True)


def test_it_answers_no_click_for_an_unknown_uuid():
    ClickFactory()

    assert reported_click(uuid.uuid4()) is None


def test_it_joins_only_the_clicks_programs_events_to_the_click():
    click = ClickFactory()
    own = EventFactory(program=click.program, name="Shoes")
    other = EventFactory(program=click.program, name="Socks")
    foreign = EventFactory(name="Elsewhere")

    found = reported_click(click.pk, {own.uuid, foreign.uuid, uuid.uuid4()})

    assert found.click == click
    assert set(found.events) == {own.uuid}
    assert other.uuid not in found.events
    assert _values(found.events[own.uuid]) == _values(type(own).objects.get(pk=own.pk))
    assert found.events[own.uuid].program is found.click.program


def test_it_finds_only_the_programs_own_events():
    program = ProgramFactory()
    own = EventFactory(program=program, name="Shoes")
    lead = LeadEventFactory(program=program, name="Sign-up")
    foreign = EventFactory(name="Elsewhere")

    found = program_events(program, {own.uuid, lead.uuid, foreign.uuid, uuid.uuid4()})

    assert set(found) == {own.uuid, lead.uuid}
    assert _values(found[own.uuid]) == _values(type(own).objects.get(pk=own.pk))
    assert found[own.uuid].percent == own.percent
    assert found[own.uuid].program is program


def test_it_inserts_a_conversion_that_reads_back_as_written():
    stored = ConversionFactory()
    now = timezone.now()
    conversion = Conversion(
        kind=EventKind.TRANSACTION,
        program=stored.program,
        partner=stored.partner,
        click=stored.click,
        event=stored.event,
        order_number="plain-1",
        order_sum=12500,
        vat_sum=2500,
        commission=800,
        commission_breakdown=[{"line": 0, "rate": "8", "result": 800}],
        currency="SEK",
        vouchers=["SUMMER"],
        payload_fingerprint="f" * 64,
        created_at=now,
        updated_at=now - timedelta(seconds=1),
    )
    lines = [
        ProductLine(
            conversion=conversion,
            position=position,
            event=stored.event,
            reference=f"SKU-{position}",
            name="Sock",
            quantity=2,
            price=4900,
            vat=980,
            commission=392,
        )
        for position in range(2)
    ]

    insert_instances([conversion])
    insert_instances(lines)

    assert conversion.pk is not None
    assert conversion._state.adding is False
    assert _values(Conversion.objects.get(pk=conversion.pk)) == _values(conversion)
    assert [line.pk for line in lines] == list(
        ProductLine.objects.filter(conversion=conversion)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    assert [_values(line) for line in ProductLine.objects.filter(conversion=conversion)] == [
        _values(line) for line in lines
    ]


def test_it_inserts_a_report_log_entry_with_its_uuid_and_time():
    entry = ReportLogEntry(
        source=ReportSource.API,
        kind="transaction",
        outcome=ReportOutcome.REFUSED,
        code="invalid",
        message="bad",
        status_code=400,
        payload='{"orderNumber": "\\u00e5"}',
    )

    insert_instances([entry])

    assert _values(ReportLogEntry.objects.get(pk=entry.pk)) == _values(entry)


def test_it_skips_a_row_a_unique_constraint_refuses_when_told_to():
    conversion = ConversionFactory()
    now = timezone.now()

    def flag(code: FlagCode, reason: str) -> ConversionFlag:
        return ConversionFlag(conversion=conversion, code=code, reason=reason, raised_at=now)

    insert_instances([flag(FlagCode.TOO_FAST, "1")])

    insert_instances(
        [flag(FlagCode.TOO_FAST, "2"), flag(FlagCode.BOT_CLICK, "3")], ignore_conflicts=True
    )

    assert sorted(ConversionFlag.objects.values_list("code", "reason")) == [
        (FlagCode.BOT_CLICK, "3"),
        (FlagCode.TOO_FAST, "1"),
    ]


def test_it_refuses_to_insert_a_model_whose_saves_have_receivers():
    # Stores keep an audit history (django-simple-history), written by a post_save receiver.
    with pytest.raises(TypeError, match="signal receivers"):
        insert_instances([Store(name="Unheard Store")])
    assert not Store.objects.filter(name="Unheard Store").exists()


def test_it_prepares_uuids_json_times_and_relations_to_uuid_keys_and_nothing_else():
    fields = Conversion._meta.concrete_fields

    prepared = [field.name for field in fields if not stored_as_given(field)]

    # The click's key is a UUID (text on SQLite); the rest is text, flags and integers.
    assert prepared == [
        "uuid",
        "click",
        "commission_breakdown",
        "vouchers",
        "created_at",
        "updated_at",
    ]


def test_it_refuses_to_insert_a_model_without_an_automatic_key():
    # A click's key is its UUID: nothing to learn back from the INSERT.
    click = ClickFactory.build()

    with pytest.raises(TypeError, match="no automatic primary key"):
        insert_instances([click])
    assert not Click.objects.exists()


@pytest.mark.postgres
def test_it_runs_every_statement_of_a_connection_on_one_kept_server_bound_cursor():
    fetch_row("SELECT %s::int", [1])
    kept = connection._plain_sql_cursor

    assert fetch_rows("SELECT %s::int UNION ALL SELECT %s::int", [2, 3]) == [(2,), (3,)]
    assert connection._plain_sql_cursor is kept
    assert type(kept) is psycopg.Cursor  # values bound on the server, not in the SQL text


@pytest.mark.postgres
def test_a_closed_cursor_or_one_of_another_database_connection_is_made_again():
    fetch_row("SELECT 1", [])
    connection._plain_sql_cursor.close()

    assert fetch_row("SELECT %s::int", [4]) == (4,)
    reopened = connection._plain_sql_cursor
    assert not reopened.closed
    with psycopg.connect(connection.connection.info.dsn) as other:
        connection._plain_sql_cursor = psycopg.Cursor(other)
        assert fetch_row("SELECT %s::int", [5]) == (5,)
    assert connection._plain_sql_cursor.connection is connection.connection


@pytest.mark.postgres
def test_a_refused_statement_raises_djangos_error_and_the_broken_transaction_refuses_more():
    conversion = ConversionFactory()
    table = Conversion._meta.db_table

    with transaction.atomic():
        # Django's IntegrityError (which the create path catches), not psycopg's.
        with pytest.raises(IntegrityError), transaction.atomic():
            fetch_row(f'UPDATE "{table}" SET "uuid" = NULL WHERE "id" = %s', [conversion.pk])
        assert fetch_row(f'SELECT "uuid" FROM "{table}" WHERE "id" = %s', [conversion.pk]) == (
            conversion.uuid,
        )
        connection.needs_rollback = True
        with pytest.raises(TransactionManagementError):
            fetch_row("SELECT 1", [])
        connection.needs_rollback = False
    assert Conversion.objects.get().uuid == conversion.uuid
