from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from partners.models import Admission, Partner
from stores.models import Program

pytestmark = pytest.mark.django_db


def test_it_seeds_two_stores_one_partner_and_an_admin():
    out = StringIO()

    call_command("seed_demo", stdout=out)

    programs = Program.objects.order_by("name")
    assert [(p.name, p.uses_redirect_page) for p in programs] == [
        ("Awesome Store SE", True),
        ("Nordic Outdoor SE", False),
    ]
    partner = Partner.objects.get()
    assert Admission.objects.filter(partner=partner).count() == 2
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert set(Group.objects.values_list("name", flat=True)) == {"Operator", "Support"}
    printed = out.getvalue()
    assert f"publisher={partner.uuid}&program={programs[0].uuid}&ref=demo-1" in printed
    password = printed.split("password '")[1].split("'")[0]
    assert admin.check_password(password)


def test_running_it_twice_creates_nothing_twice():
    call_command("seed_demo", stdout=StringIO())

    call_command("seed_demo", stdout=StringIO())

    assert Program.objects.count() == 2
    assert Partner.objects.count() == 1
    assert get_user_model().objects.count() == 1
