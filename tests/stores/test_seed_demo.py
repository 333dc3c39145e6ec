from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from clicks.models import Click
from conversions.models import Conversion, ConversionStatus
from partners.models import Admission, Partner, PartnerToken
from stores.models import EventKind, Program, StoreToken
from stores.services import revoke_store_token

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_seeds_two_stores_one_partner_and_an_admin():
    printed = seed()

    programs = Program.objects.order_by("name")
    assert [(p.name, p.uses_redirect_page) for p in programs] == [
        ("Awesome Store SE (demo)", True),
        ("Nordic Outdoor SE (demo)", False),
    ]
    partner = Partner.objects.get()
    assert partner.name == "Refunder (demo)"
    assert Admission.objects.filter(partner=partner).count() == 2
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert set(Group.objects.values_list("name", flat=True)) == {"Operator", "Support"}
    assert f"publisher={partner.uuid}&program={programs[0].uuid}&ref=demo-1" in printed
    password = printed.split("password '")[1].split("'")[0]
    assert admin.check_password(password)
    assert "python manage.py changepassword admin" in printed


def test_its_links_follow_the_public_url(settings):
    settings.RETRACK_PUBLIC_URL = "http://127.0.0.1:18500"

    printed = seed()

    assert "http://127.0.0.1:18500/admin/" in printed
    assert "http://127.0.0.1:18500/track/v2/click?publisher=" in printed
    assert ":8000" not in printed


def test_it_prints_tokens_that_work_once():
    printed = seed()

    store_secret = printed.split("Store token (Awesome Store (demo)): ")[1].split()[0]
    partner_secret = printed.split("Partner token (Refunder (demo)): ")[1].split()[0]
    assert StoreToken.objects.get().prefix == store_secret[:12]
    assert PartnerToken.objects.get().prefix == partner_secret[:12]


def test_running_it_twice_keeps_the_password_the_tokens_and_the_traffic():
    first = seed()
    password_hash = get_user_model().objects.get(username="admin").password
    tokens = (list(StoreToken.objects.values_list("key_hash", flat=True)),)
    tokens += (list(PartnerToken.objects.values_list("key_hash", flat=True)),)
    clicks, conversions = Click.objects.count(), Conversion.objects.count()

    second = seed()

    assert Program.objects.count() == 2
    assert Partner.objects.count() == 1
    assert get_user_model().objects.count() == 1
    assert get_user_model().objects.get(username="admin").password == password_hash
    assert "password unchanged" in second and "password '" not in second
    assert (
        list(StoreToken.objects.values_list("key_hash", flat=True)),
        list(PartnerToken.objects.values_list("key_hash", flat=True)),
    ) == tokens
    assert StoreToken.objects.filter(revoked_at__isnull=True).count() == 1
    assert "rts_" in first and "rts_" not in second and "rtp_" not in second
    assert 'create_token --store "Awesome Store (demo)" --name demo' in second
    assert (Click.objects.count(), Conversion.objects.count()) == (clicks, conversions)


def test_it_replaces_a_demo_token_an_operator_revoked():
    seed()
    revoke_store_token(StoreToken.objects.get(), actor="operator:olivia")
    partner_hash = PartnerToken.objects.get().key_hash

    printed = seed()

    store_secret = printed.split("Store token (Awesome Store (demo)): ")[1].split()[0]
    active = StoreToken.objects.get(revoked_at__isnull=True)
    assert (active.prefix, StoreToken.objects.count()) == (store_secret[:12], 2)
    assert PartnerToken.objects.get().key_hash == partner_hash
    assert "rtp_" not in printed


def test_it_gives_an_admin_without_a_usable_password_a_new_one():
    get_user_model().objects.create_user(username="admin", password=None)

    printed = seed()

    password = printed.split("password '")[1].split("'")[0]
    assert get_user_model().objects.get(username="admin").check_password(password)


def test_it_seeds_weeks_of_traffic_with_bots_and_conversions_in_every_status():
    seed()

    for program in Program.objects.all():
        clicks = Click.objects.filter(program=program)
        days = {moment.date() for moment in clicks.values_list("created_at", flat=True)}
        assert len(days) >= 27
        assert clicks.filter(is_bot=True).exists()
        assert clicks.filter(is_bot=False).count() > 500
    conversions = Conversion.objects.all()
    assert {c.status for c in conversions} == set(ConversionStatus.values)
    assert {c.kind for c in conversions} == set(EventKind.values)
    for conversion in conversions.select_related("click"):
        assert conversion.created_at >= conversion.click.created_at
        assert conversion.changes.earliest("sequence").created_at == conversion.created_at
