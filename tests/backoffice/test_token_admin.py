import pytest

from partners.models import PartnerToken
from retrack.lib.tokens import hash_token
from stores.models import StoreToken
from stores.services import issue_store_token
from tests.factories import PartnerFactory, StoreFactory

pytestmark = pytest.mark.django_db


def test_an_operator_issues_a_store_token_and_sees_its_secret_once(operator_client):
    # given
    store = StoreFactory(name="Awesome Store")

    # when
    response = operator_client.post(
        "/admin/stores/storetoken/add/", {"store": store.pk, "name": "checkout"}
    )

    # then
    token = StoreToken.objects.get()
    page = response.content.decode()
    secret = page.split('readonly value="')[1].split('"')[0]
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert secret.startswith("rts_") and len(secret) == 60
    assert (token.store, token.name, token.key_hash) == (store, "checkout", hash_token(secret))
    assert "it is not stored and will not be shown again" in page
    for url in [
        f"/admin/stores/storetoken/{token.pk}/change/",
        "/admin/stores/storetoken/",
        f"/admin/stores/store/{store.pk}/change/",
    ]:
        later = operator_client.get(url)
        assert later.status_code == 200
        assert secret not in later.content.decode()
        assert token.prefix in later.content.decode()


def test_an_operator_issues_a_partner_token(operator_client):
    partner = PartnerFactory(name="Refunder SE")

    response = operator_client.post("/admin/partners/partnertoken/add/", {"partner": partner.pk})

    token = PartnerToken.objects.get()
    secret = response.content.decode().split('readonly value="')[1].split('"')[0]
    assert secret.startswith("rtp_")
    assert (token.partner, token.key_hash) == (partner, hash_token(secret))
    assert secret not in operator_client.get("/admin/partners/partnertoken/").content.decode()


def test_the_issue_form_starts_with_the_owner_it_was_opened_from(operator_client):
    store = StoreFactory()

    response = operator_client.get(f"/admin/stores/storetoken/add/?store={store.pk}")

    assert f'<option value="{store.pk}" selected>' in response.content.decode()


def test_it_refuses_to_issue_a_token_without_an_owner(operator_client):
    response = operator_client.post("/admin/stores/storetoken/add/", {"store": "", "name": "x"})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert StoreToken.objects.count() == 0


def test_the_token_list_shows_prefix_owner_and_dates(operator_client):
    store = StoreFactory(name="Nordic Outdoor")
    token, _ = issue_store_token(store, name="erp")

    response = operator_client.get("/admin/stores/storetoken/")

    page = response.content.decode()
    for column in ["Prefix", "Owner", "Created at", "Last used at", "Revoked at"]:
        assert column in page
    assert token.prefix in page
    assert "Nordic Outdoor" in page


def test_an_operator_revokes_tokens_with_the_action(operator_client):
    # given
    store = StoreFactory()
    active, _ = issue_store_token(store)
    revoked, _ = issue_store_token(store)
    StoreToken.objects.filter(pk=revoked.pk).update(revoked_at="2025-01-01T00:00:00Z")

    # when
    response = operator_client.post(
        "/admin/stores/storetoken/",
        {"action": "revoke_tokens", "_selected_action": [active.pk, revoked.pk]},
        follow=True,
    )

    # then
    assert "Revoked 1 token(s); 1 already revoked." in response.content.decode()
    active.refresh_from_db()
    revoked.refresh_from_db()
    assert active.revoked_at is not None
    assert revoked.revoked_at.isoformat() == "2025-01-01T00:00:00+00:00"


def test_tokens_cannot_be_deleted_only_revoked(operator_client):
    token, _ = issue_store_token(StoreFactory())

    response = operator_client.post(f"/admin/stores/storetoken/{token.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert StoreToken.objects.filter(pk=token.pk).exists()
