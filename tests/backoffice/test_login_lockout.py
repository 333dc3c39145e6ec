"""The admin login locks a username out from an address after too many wrong passwords."""

import io
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"
PASSWORD = "correct horse battery staple"
ATTACKER = "203.0.113.66"


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_user(username="olivia", password=PASSWORD, is_staff=True)


def log_in(username: str, password: str, address: str = ATTACKER, **headers):
    """A fresh browser posting the admin's login form; its response and whether it is in."""
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(LOGIN_URL, {"username": username, "password": password})
    return response, "_auth_user_id" in client.session


def fail_until_locked(username: str, address: str = ATTACKER, **headers) -> list[int]:
    return [
        log_in(username, "wrong", address, **headers)[0].status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]


def test_it_refuses_the_right_password_after_too_many_wrong_ones(operator):
    statuses = fail_until_locked("olivia")

    response, logged_in = log_in("olivia", PASSWORD)

    assert settings.AXES_FAILURE_LIMIT == 5
    assert statuses == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert logged_in is False


def test_it_lets_the_right_password_in_below_the_limit_and_starts_counting_again(operator):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in("olivia", "wrong")

    response, logged_in = log_in("olivia", PASSWORD)

    assert (response.status_code, logged_in) == (302, True)
    assert AccessAttempt.objects.count() == 0


def test_it_locks_only_that_username_from_that_address(operator):
    get_user_model().objects.create_user(username="sam", password=PASSWORD, is_staff=True)
    fail_until_locked("olivia")

    assert log_in("olivia", PASSWORD, address="198.51.100.7")[1] is True
    assert log_in("sam", PASSWORD)[1] is True
    assert log_in("olivia", PASSWORD)[1] is False


def test_it_unlocks_after_the_cool_off(operator):
    fail_until_locked("olivia")
    assert log_in("olivia", PASSWORD)[0].status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    response, logged_in = log_in("olivia", PASSWORD)

    cool_off = settings.AXES_COOLOFF_TIME
    assert cool_off == timedelta(minutes=15)
    assert (response.status_code, logged_in) == (302, True)


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("axes_reset_username", ["olivia"]),
        ("axes_reset_ip", [ATTACKER]),
        ("axes_reset", []),
    ],
)
def test_an_operator_unlocks_it_with_a_command(operator, command, arguments):
    fail_until_locked("olivia")
    assert log_in("olivia", PASSWORD)[0].status_code == 429

    call_command(command, *arguments, stdout=io.StringIO())
    response, logged_in = log_in("olivia", PASSWORD)

    assert (response.status_code, logged_in) == (302, True)


def test_it_keys_on_the_address_the_trusted_proxies_designate(operator, settings):
    settings.RETRACK_TRUSTED_PROXIES = 1
    proxy = "10.0.0.1"
    fail_until_locked("olivia", proxy, HTTP_X_FORWARDED_FOR=ATTACKER)

    # Another visitor behind the same proxy is not locked out; a forged header is ignored.
    other = log_in("olivia", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    forged = log_in("olivia", PASSWORD, proxy, HTTP_X_FORWARDED_FOR=f"198.51.100.7, {ATTACKER}")

    assert AccessAttempt.objects.get().ip_address == ATTACKER
    assert other[1] is True
    assert (forged[0].status_code, forged[1]) == (429, False)
