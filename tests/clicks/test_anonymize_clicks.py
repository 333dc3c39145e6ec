from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from clicks.models import Click
from tests.clicks.helpers import uuid7_at
from tests.factories import ClickFactory

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def click_made(days_ago: float, **fields) -> Click:
    moment = timezone.now() - timedelta(days=days_ago)
    return ClickFactory(uuid=uuid7_at(moment), created_at=moment, **fields)


def anonymize(*arguments: str) -> str:
    out = StringIO()
    call_command("anonymize_clicks", *arguments, stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple]:
    return list(
        Click.objects.order_by("uuid").values_list("ip_address", "browser", "is_anonymized")
    )


def test_it_anonymizes_clicks_older_than_the_age():
    ipv4 = click_made(91, ip_address="203.0.113.77", browser=FIREFOX)
    ipv6 = click_made(200, ip_address="2001:db8:1234:5678:9abc:def0:1234:5678", browser="")
    young = click_made(89, ip_address="198.51.100.9", browser=FIREFOX)

    output = anonymize("--older-than", "90d")

    ipv4.refresh_from_db()
    ipv6.refresh_from_db()
    young.refresh_from_db()
    assert (ipv4.ip_address, ipv4.browser, ipv4.is_anonymized) == (
        "203.0.113.0",
        "Firefox on Windows",
        True,
    )
    assert (ipv6.ip_address, ipv6.browser, ipv6.is_anonymized) == ("2001:db8:1234::", "", True)
    assert (young.ip_address, young.browser, young.is_anonymized) == (
        "198.51.100.9",
        FIREFOX,
        False,
    )
    assert output.startswith("Anonymized 2 clicks made before ")


def test_it_keeps_everything_but_the_address_and_user_agent():
    click = click_made(100, ref="38315327", referer="https://www.refunder.se/", country="SE")

    anonymize("--older-than", "90d")

    click.refresh_from_db()
    assert (click.ref, click.referer, click.country) == (
        "38315327",
        "https://www.refunder.se/",
        "SE",
    )


def test_it_works_in_batches():
    for days_ago in range(91, 96):
        click_made(days_ago, ip_address="203.0.113.77")

    output = anonymize("--older-than", "90d", "--batch-size", "2")

    assert output.startswith("Anonymized 5 clicks")
    assert set(Click.objects.values_list("ip_address", flat=True)) == {"203.0.113.0"}


def test_it_does_nothing_the_second_time():
    click_made(120, ip_address="203.0.113.77", browser=FIREFOX)
    anonymize("--older-than", "90d")
    after_first = snapshot()

    output = anonymize("--older-than", "90d")

    assert output.startswith("Anonymized 0 clicks")
    assert snapshot() == after_first


def test_it_takes_hours():
    click_made(0.6, ip_address="203.0.113.77")

    output = anonymize("--older-than", "12h")

    assert output.startswith("Anonymized 1 clicks")


@pytest.mark.parametrize(
    "age", ["90", "d", "-1d", "0d", "90 days", "1y", "1.5d", "99999999999d", "36501d", ""]
)
def test_it_refuses_a_bad_age_and_changes_nothing(age):
    click_made(120, ip_address="203.0.113.77", browser=FIREFOX)
    before = snapshot()

    with pytest.raises(CommandError, match="--older-than"):
        anonymize("--older-than", age)

    assert snapshot() == before


@pytest.mark.parametrize("batch_size", ["0", "-5", "10001"])
def test_it_refuses_a_bad_batch_size_and_changes_nothing(batch_size):
    click_made(120, ip_address="203.0.113.77")
    before = snapshot()

    with pytest.raises(CommandError, match="--batch-size"):
        anonymize("--older-than", "90d", "--batch-size", batch_size)

    assert snapshot() == before


def test_it_requires_an_age():
    with pytest.raises(CommandError, match="--older-than"):
        anonymize()
