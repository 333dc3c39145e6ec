"""A click when the database fails: a 503 and no redirect, or one more try on a fresh
connection, never a redirect without its click nor a click stored twice."""

import threading

import pytest
from django.db import OperationalError, connection

from clicks.models import Click
from tests.clicks.helpers import CLICK_PATH, link, open_link, query_of
from tests.database import terminate_backend, terminate_this_threads_connection


class FailingClickInserts:
    """Makes the next `failures` click INSERTs fail as a dropped connection does.

    With `after_executing`, the INSERT reaches the database first and only its answer is
    lost, as when a connection dies between the commit and the reply.
    """

    def __init__(self, failures: int, *, after_executing: bool = False) -> None:
        self.failures = failures
        self.after_executing = after_executing

    def __call__(self, execute, sql, params, many, context):
        if not sql.startswith('INSERT INTO "clicks_click"') or self.failures == 0:
            return execute(sql, params, many, context)
        self.failures -= 1
        if self.after_executing:
            execute(sql, params, many, context)
        raise OperationalError("server closed the connection unexpectedly")


# Autocommit, as in production: the failed INSERT is not inside a test transaction.
@pytest.mark.django_db(transaction=True)
def test_it_answers_503_and_no_redirect_when_the_click_cannot_be_stored(
    client, partner, program, caplog
):
    with connection.execute_wrapper(FailingClickInserts(2)):
        response = open_link(client, link(partner, program, ref="38315327"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    assert "Location" not in response
    assert "Try again in a moment" in response.content.decode()
    retry = link(partner, program, ref="38315327").removeprefix(CLICK_PATH).replace("&", "&amp;")
    assert f'<a href="{retry}">Try again</a>' in response.content.decode()
    assert Click.objects.count() == 0
    assert "A click could not be stored" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_it_stores_the_click_on_a_fresh_connection_when_the_first_one_fails(
    client, partner, program
):
    with connection.execute_wrapper(FailingClickInserts(1)):
        response = open_link(client, link(partner, program, ref="38315327"))

    click = Click.objects.get()
    assert response.status_code == 302
    assert query_of(response["Location"])["click"] == [str(click.uuid)]
    assert click.ref == "38315327"


@pytest.mark.django_db(transaction=True)
def test_it_redirects_once_when_the_first_insert_was_stored_but_its_answer_lost(
    client, partner, program
):
    with connection.execute_wrapper(FailingClickInserts(1, after_executing=True)):
        response = open_link(client, link(partner, program, ref="38315327"))

    click = Click.objects.get()
    assert response.status_code == 302
    assert query_of(response["Location"])["click"] == [str(click.uuid)]


@pytest.mark.django_db(transaction=True)
def test_the_click_is_committed_when_the_redirect_is_answered(client, partner, program):
    response = open_link(client, link(partner, program))
    click_uuid = query_of(response["Location"])["click"][0]

    # Another connection (another thread) sees it, so it is not waiting for a commit.
    seen = []
    reader = threading.Thread(
        target=lambda: (
            seen.append(Click.objects.filter(uuid=click_uuid).exists()),
            connection.close(),
        )
    )
    reader.start()
    reader.join()

    assert seen == [True]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_stores_the_click_when_postgresql_dropped_the_connection(client, partner, program):
    open_link(client, link(partner, program, ref="first"))
    dropped = connection.connection.info.backend_pid
    terminate_backend(dropped)

    response = open_link(client, link(partner, program, ref="38315327"))

    click = Click.objects.get(ref="38315327")
    assert response.status_code == 302
    assert query_of(response["Location"])["click"] == [str(click.uuid)]
    assert Click.objects.count() == 2
    assert connection.connection.info.backend_pid != dropped


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_stores_a_click_whose_route_is_not_cached_when_postgresql_dropped_the_connection(
    client, partner, program
):
    dropped = terminate_this_threads_connection()

    response = open_link(client, link(partner, program, ref="38315327"))

    click = Click.objects.get()
    assert response.status_code == 302
    assert query_of(response["Location"])["click"] == [str(click.uuid)]
    assert click.ref == "38315327"
    assert connection.connection.info.backend_pid != dropped
