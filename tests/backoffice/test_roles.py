import pytest
from django.contrib.auth.models import Permission

from partners.models import PartnerToken
from stores.models import Program, StoreToken
from stores.roles import ensure_roles
from stores.services import issue_store_token
from tests.factories import (
    AdmissionFactory,
    ClickFactory,
    ConversionFactory,
    PartnerFactory,
    ProgramFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db

APPS = ["stores", "partners", "clicks", "conversions", "jobs", "audit"]


def test_operators_get_every_permission_of_the_apps_and_support_only_view():
    operator, support = ensure_roles()

    every = set(Permission.objects.filter(content_type__app_label__in=APPS))
    assert set(operator.permissions.all()) == every
    assert {p.codename for p in support.permissions.all()} == {
        p.codename for p in every if p.codename.startswith("view_")
    }
    assert "view_conversion" in {p.codename for p in support.permissions.all()}


def test_ensuring_the_roles_twice_changes_nothing():
    first = [set(group.permissions.all()) for group in ensure_roles()]

    second = [set(group.permissions.all()) for group in ensure_roles()]

    assert first == second


@pytest.fixture
def one_of_each():
    conversion = ConversionFactory()
    AdmissionFactory(program=conversion.program, partner=conversion.partner)
    token, _ = issue_store_token(conversion.program.store)
    return conversion, token


def test_support_can_look_at_every_list_and_page(support_client, one_of_each):
    conversion, token = one_of_each
    urls = [
        "/admin/",
        "/admin/stores/store/",
        f"/admin/stores/store/{conversion.program.store_id}/change/",
        "/admin/stores/program/",
        f"/admin/stores/program/{conversion.program_id}/change/",
        "/admin/stores/storetoken/",
        f"/admin/stores/storetoken/{token.pk}/change/",
        "/admin/partners/partner/",
        f"/admin/partners/partner/{conversion.partner_id}/change/",
        "/admin/clicks/click/",
        f"/admin/clicks/click/{conversion.click_id}/change/",
        "/admin/conversions/conversion/",
        f"/admin/conversions/conversion/{conversion.pk}/change/",
        "/admin/conversions/conversion/overview/",
        "/admin/conversions/conversion/export/",
    ]

    statuses = {url: support_client.get(url).status_code for url in urls}

    assert statuses == dict.fromkeys(urls, 200)


def test_support_cannot_change_a_program(support_client):
    program = ProgramFactory(name="Before")

    change = support_client.post(
        f"/admin/stores/program/{program.pk}/change/", {"name": "After", "currency": "SEK"}
    )
    add = support_client.post("/admin/stores/program/add/", {"name": "New"})

    assert (change.status_code, add.status_code) == (403, 403)
    program.refresh_from_db()
    assert program.name == "Before"
    assert Program.objects.count() == 1


def test_support_cannot_issue_or_revoke_tokens(support_client):
    store, partner = StoreFactory(), PartnerFactory()
    token, _ = issue_store_token(store)

    issue_store = support_client.post("/admin/stores/storetoken/add/", {"store": store.pk})
    issue_partner = support_client.post(
        "/admin/partners/partnertoken/add/", {"partner": partner.pk}
    )
    revoke = support_client.post(
        "/admin/stores/storetoken/",
        {"action": "revoke_tokens", "index": "0", "_selected_action": [token.pk]},
        follow=True,
    )

    assert (issue_store.status_code, issue_partner.status_code) == (403, 403)
    assert revoke.status_code == 200
    assert revoke.context["action_form"] is None
    assert StoreToken.objects.get().revoked_at is None
    assert StoreToken.objects.count() == 1
    assert PartnerToken.objects.count() == 0


def test_the_support_pages_offer_no_change(support_client, one_of_each):
    conversion, _ = one_of_each

    program_page = support_client.get(f"/admin/stores/program/{conversion.program_id}/change/")
    token_list = support_client.get("/admin/stores/storetoken/")
    conversion_list = support_client.get("/admin/conversions/conversion/")

    assert 'name="_save"' not in program_page.content.decode()
    assert "/admin/stores/storetoken/add/" not in token_list.content.decode()
    actions = [
        value for value, _ in conversion_list.context["action_form"].fields["action"].choices
    ]
    assert actions == ["", "export_csv"]


def test_an_operator_can_open_every_form_support_cannot(operator_client):
    program = ProgramFactory()
    ClickFactory(program=program)

    for url in [
        "/admin/stores/program/add/",
        f"/admin/stores/program/{program.pk}/change/",
        "/admin/stores/storetoken/add/",
        "/admin/partners/partnertoken/add/",
    ]:
        assert operator_client.get(url).status_code == 200, url
    choices = operator_client.get("/admin/conversions/conversion/").context["action_form"]
    assert [value for value, _ in choices.fields["action"].choices] == [
        "",
        "approve_conversions",
        "reject_conversions",
        "export_csv",
    ]
