from datetime import timedelta

import pytest
from django.utils import timezone

from clicks.selectors import count_clicks, tracking_link
from tests.factories import ClickFactory, PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def test_the_tracking_link_leaves_ref_as_a_placeholder(partner, program, settings):
    settings.RETRACK_PUBLIC_URL = "https://retrack.example.com"

    assert tracking_link(partner, program) == (
        f"https://retrack.example.com/track/v2/click?publisher={partner.uuid}"
        f"&program={program.uuid}&ref={{ref}}"
    )


def test_the_tracking_link_encodes_a_given_ref(partner, program, settings):
    settings.RETRACK_PUBLIC_URL = "https://retrack.example.com"

    link = tracking_link(partner, program, ref="a b&c=d")

    assert link.endswith(f"&program={program.uuid}&ref=a%20b%26c%3Dd")


def test_the_tracking_link_has_no_ref_when_it_is_empty(partner, program, settings):
    settings.RETRACK_PUBLIC_URL = "https://retrack.example.com"

    assert tracking_link(partner, program, ref="") == (
        f"https://retrack.example.com/track/v2/click?publisher={partner.uuid}"
        f"&program={program.uuid}"
    )


def test_the_tracking_link_works(client, partner, program, settings):
    settings.RETRACK_PUBLIC_URL = "http://testserver"
    link = tracking_link(partner, program, ref="38315327")

    response = client.get(link)

    assert response.status_code == 302


def test_it_counts_clicks_without_bots(partner, program):
    ClickFactory.create_batch(3, partner=partner, program=program)
    ClickFactory(partner=partner, program=program, is_bot=True)

    assert count_clicks() == 3
    assert count_clicks(program=program) == 3
    assert count_clicks(partner=partner) == 3


def test_it_counts_clicks_of_one_program_or_partner(partner, program):
    other_program = ProgramFactory()
    other_partner = PartnerFactory()
    ClickFactory(partner=partner, program=program)
    ClickFactory.create_batch(2, partner=partner, program=other_program)
    ClickFactory.create_batch(4, partner=other_partner, program=program)

    assert count_clicks(program=program) == 5
    assert count_clicks(partner=partner) == 3
    assert count_clicks(program=program, partner=partner) == 1
    assert count_clicks(program=other_program, partner=other_partner) == 0


def test_it_counts_clicks_from_since_until_before_until(partner, program):
    now = timezone.now()
    for days_ago in (10, 5, 3, 1):
        ClickFactory(partner=partner, program=program, created_at=now - timedelta(days=days_ago))

    assert count_clicks(since=now - timedelta(days=5)) == 3
    assert count_clicks(until=now - timedelta(days=3)) == 2
    assert count_clicks(since=now - timedelta(days=5), until=now - timedelta(days=1)) == 2
