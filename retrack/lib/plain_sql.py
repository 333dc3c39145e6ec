"""Hand-written SELECTs that still answer model instances, for the store API's hot path.

Building and compiling a queryset costs about five times what running its statement does
here (bench/RESULTS.md, "Store API"), and the store API runs the same few reads on every
request. These helpers keep those statements literal and reuse the ORM's own pieces for
everything else: a model's concrete columns in field order, the backend's and each
field's converters for the values read (so SQLite and PostgreSQL answer the same Python
types as the ORM would), `Model.from_db` for the instances, `get_db_prep_value` for the
parameters. Only SQL text and converters are kept between calls: every call reads the
database, so nothing read this way can be stale.
"""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, NamedTuple

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallIntegerField,
    TextField,
)
from django.db.models.signals import post_save, pre_save

Converter = Callable[[Any, Any, Any], Any]


def _connection() -> BaseDatabaseWrapper:
    # Once per call: each use of django.db.connection is a thread-local lookup.
    return connections[DEFAULT_DB_ALIAS]


class ModelColumns:
    """The concrete columns of `model` under a table alias: in a SELECT, and back as one.

    `select` is the column list to put in the statement; `build(row, start)` turns the
    values from `start` on into an instance, exactly as the ORM would have loaded it.
    """

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields: tuple[Field, ...] = tuple(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.table = f'"{model._meta.db_table}" {alias}'
        self.select = ", ".join(f'{alias}."{field.column}"' for field in self.fields)
        self._converters: dict[str, list[tuple[int, Any, list[Converter]]]] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def converters(self, connection: BaseDatabaseWrapper) -> list[tuple[int, Any, list[Converter]]]:
        """(index, column, converters) for each column that needs converting, per backend."""
        vendor = connection.vendor
        found = self._converters.get(vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                chain = connection.ops.get_db_converters(column) + column.get_db_converters(
                    connection
                )
                if chain:
                    found.append((index, column, chain))
            self._converters[vendor] = found
        return found

    def build(self, row: Sequence[Any], start: int = 0) -> Model:
        connection = _connection()
        values = list(row[start : start + len(self.fields)])
        for index, column, chain in self.converters(connection):
            for converter in chain:
                values[index] = converter(values[index], column, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def prepared(field: Field, value: Any) -> Any:
    """`value` as a parameter compared with `field`, as the ORM would send it."""
    return field.get_db_prep_value(value, _connection(), prepared=False)


def _server_bound_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """Django's cursor; on PostgreSQL one that binds the values on the server.

    Django's psycopg cursors bind on the client, formatting every value into the SQL
    text in Python, which cost the click path more than any other single step and the
    store API a fifth of its CPU (bench/RESULTS.md). This cursor has psycopg send them
    apart, as the protocol's parameters, and is wrapped exactly as `connection.cursor()`
    wraps its own: the same error translation, query logging and execute wrappers.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


def run_statement(
    connection: BaseDatabaseWrapper,
    sql: str,
    params: Sequence[Any],
    read: Callable[[Any], Any],
) -> Any:
    """Execute one statement and answer `read(cursor)`.

    On PostgreSQL, with nothing watching the queries (no query log, no execute wrapper:
    tests' query counts and failure injections get Django's cursor, below), the statement
    runs on one server-bound cursor kept with the connection, checked and translated as
    Django's cursor would (a broken transaction refused, psycopg's errors as Django's),
    without a cursor and its wrapper made and closed per statement: that cost each of
    the store API's statements half as much CPU again as psycopg's own work
    (bench/RESULTS.md, "Store API").
    """
    if (
        connection.vendor != "postgresql"
        or connection.queries_logged
        or connection.execute_wrappers
    ):
        with _server_bound_cursor(connection) as cursor:
            cursor.execute(sql, params)
            return read(cursor)
    cursor = _kept_cursor(connection)
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor.execute(sql, params)
        return read(cursor)


def _kept_cursor(connection: BaseDatabaseWrapper) -> psycopg.Cursor:
    """The connection's server-bound cursor, made again for a new database connection."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = getattr(connection, "_plain_sql_cursor", None)
    if cursor is None or cursor.closed or cursor.connection is not connection.connection:
        cursor = psycopg.Cursor(connection.connection)
        connection._plain_sql_cursor = cursor
    return cursor


def _all(cursor: Any) -> list[tuple[Any, ...]]:
    return cursor.fetchall()


def _one(cursor: Any) -> tuple[Any, ...] | None:
    return cursor.fetchone()


def no_rows(cursor: Any) -> None:
    return None


def fetch_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    return run_statement(_connection(), sql, params, _all)


def fetch_row(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    return run_statement(_connection(), sql, params, _one)


def cache_relation(instance: Model, name: str, related: Model) -> None:
    """Attach `related` as `instance.<name>`, as select_related would (no later query)."""
    instance._meta.get_field(name).set_cached_value(instance, related)


def for_update() -> str:
    """The row-locking clause, or nothing on a backend without one (SQLite locks the file)."""
    return " FOR UPDATE" if _connection().features.has_select_for_update else ""


# The field classes whose Python value every backend stores as it is: the ORM's
# preparation (`pre_save`, `get_db_prep_save`) hands it over unchanged. Exact classes, so
# that a subclass with its own preparation (an encrypted CharField) is prepared.
_AS_GIVEN = frozenset(
    {
        CharField,
        TextField,
        BooleanField,
        SmallIntegerField,
        IntegerField,
        BigIntegerField,
        PositiveSmallIntegerField,
        PositiveIntegerField,
        PositiveBigIntegerField,
        AutoField,
        BigAutoField,
    }
)


def stored_as_given(field: Field) -> bool:
    """Whether the ORM would send `field`'s value to any backend exactly as it is; a
    relation's value is its target's (a UUID key is text on SQLite, so it is prepared)."""
    if type(field) is ForeignKey:
        return stored_as_given(field.target_field)
    return type(field) in _AS_GIVEN


class _InsertStatement(NamedTuple):
    sql: str  # up to VALUES
    row: str  # one row's placeholders
    # Each column's attribute, and its field where the value needs the ORM's preparation.
    columns: tuple[tuple[str, Field | None], ...]


@cache
def _insert_statement(model: type[Model]) -> _InsertStatement:
    """The INSERT of `model`: every column but its automatic primary key.

    Only models whose every value comes from Python: a database default or a generated
    column would need the ORM's placeholders, and a model without an automatic key could
    not learn its key back.
    """
    meta = model._meta
    if meta.auto_field is None:
        raise TypeError(f"{model.__name__} has no automatic primary key: use the ORM to save it")
    fields = tuple(field for field in meta.local_concrete_fields if field is not meta.auto_field)
    for field in fields:
        if field.generated or field.has_db_default():
            raise TypeError(f"{model.__name__}.{field.name} is set by the database: use the ORM")
    return _InsertStatement(
        sql=f'INSERT INTO "{meta.db_table}" ('
        + ", ".join(f'"{field.column}"' for field in fields)
        + ") VALUES ",
        row="(" + ", ".join(["%s"] * len(fields)) + ")",
        columns=tuple(
            (field.attname, None if stored_as_given(field) else field) for field in fields
        ),
    )


def insert_instances(instances: Sequence[Model], *, ignore_conflicts: bool = False) -> None:
    """INSERT new instances of one model in one statement; each gets its primary key.

    What `bulk_create` (or `save(force_insert=True)`) does for a model with an automatic
    primary key and no signal receivers, without compiling a query: the values go through
    each field's `pre_save` and `get_db_prep_save`, as the ORM sends them (but those the
    ORM would send unchanged: `stored_as_given`). With `ignore_conflicts`, a row a unique
    constraint refuses is skipped and, as with `bulk_create(ignore_conflicts=True)`, no
    instance learns its primary key.
    """
    if not instances:
        return
    connection = _connection()
    model = type(instances[0])
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        # A library's receiver (an audit trail) must not be skipped silently.
        raise TypeError(f"{model.__name__} has save signal receivers: use the ORM to save it")
    meta = model._meta
    auto = meta.auto_field
    statement = _insert_statement(model)
    sql, row = statement.sql, statement.row
    for instance in instances:
        # As the ORM does: a relation to an instance saved since takes its primary key.
        instance._prepare_related_fields_for_save(operation_name="insert_instances")
    params = [
        getattr(instance, attname)
        if field is None
        else field.get_db_prep_save(field.pre_save(instance, True), connection)
        for instance in instances
        for attname, field in statement.columns
    ]
    rows = ", ".join([row] * len(instances))
    if ignore_conflicts:
        run_statement(connection, f"{sql}{rows} ON CONFLICT DO NOTHING", params, no_rows)
        keys = [None] * len(instances)
    elif connection.features.can_return_rows_from_bulk_insert:
        returned = run_statement(connection, f'{sql}{rows} RETURNING "{auto.column}"', params, _all)
        keys = [key for (key,) in returned]
    else:
        keys = []
        width = len(statement.columns)
        with _server_bound_cursor(connection) as cursor:
            for index in range(len(instances)):
                cursor.execute(sql + row, params[index * width : (index + 1) * width])
                keys.append(connection.ops.last_insert_id(cursor, meta.db_table, auto.column))
    for instance, key in zip(instances, keys, strict=True):
        setattr(instance, auto.attname, key)
        instance._state.adding = False
        instance._state.db = connection.alias
