"""The audit: operators' changes keep old and new values; revocations, exports and the
operator commands leave a record."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from retrack.audit.models import AuditAction, AuditEvent
from stores.models import Event, Program, StoreToken
from stores.services import issue_store_token
from tests.factories import (
    ConversionFactory,
    EventFactory,
    ProgramFactory,
    StoreFactory,
)
from tests.stores.test_onboard import DOCUMENT

pytestmark = pytest.mark.django_db


def latest_changes(model_instance) -> dict[str, tuple]:
    """The fields the latest change of `model_instance` changed, as (old, new)."""
    latest, previous = model_instance.history.all()[:2]
    delta = latest.diff_against(previous)
    return {change.field: (change.old, change.new) for change in delta.changes}


def test_an_operators_change_to_a_commission_rate_keeps_old_and_new_values(operator_client):
    event = EventFactory(name="Shoes", percent=Decimal("8"))

    response = operator_client.post(
        f"/admin/stores/event/{event.pk}/change/",
        {
            "program": event.program.pk,
            "name": "Shoes",
            "kind": "transaction",
            "percent": "10.5",
            "fixed_amount": "",
        },
    )

    assert response.status_code == 302
    assert latest_changes(event) == {"percent": (Decimal("8.000"), Decimal("10.500"))}
    assert event.history.first().history_user.username == "olivia"
    page = operator_client.get(f"/admin/stores/event/{event.pk}/history/").content.decode()
    assert "8.000" in page and "10.500" in page and "olivia" in page


def test_an_operators_change_to_a_programs_settings_keeps_old_and_new_values(operator_client):
    program = ProgramFactory(attribution_days=30, validation_days=45)
    data = {
        "store": program.store.pk,
        "name": program.name,
        "status": "paused",
        "currency": program.currency,
        "landing_url": program.landing_url,
        "allowed_domains": "\r\n".join(program.allowed_domains),
        "redirect_page_url": program.redirect_page_url,
        "attribution_days": "14",
        "validation_days": "45",
        "claim_days": str(program.claim_days),
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "admissions-TOTAL_FORMS": "0",
        "admissions-INITIAL_FORMS": "0",
    }

    response = operator_client.post(f"/admin/stores/program/{program.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert latest_changes(program) == {
        "attribution_days": (30, 14),
        "status": ("active", "paused"),
    }
    assert program.history.first().history_user.username == "olivia"


def test_a_revocation_is_recorded_once_with_who_and_when(operator_client):
    token, secret = issue_store_token(StoreFactory(name="Awesome Store"))

    for _ in range(2):
        operator_client.post(
            "/admin/stores/storetoken/",
            {"action": "revoke_tokens", "_selected_action": [token.pk]},
        )

    token.refresh_from_db()
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.TOKEN_REVOKED
    assert event.actor == "operator:olivia"
    assert event.target == f"{token.prefix}… (Awesome Store)"
    assert event.details == {"revoked_at": [None, token.revoked_at.isoformat()]}
    assert secret not in json.dumps(event.details) + event.target


def test_a_csv_export_is_recorded_with_what_was_exported(support_client):
    ConversionFactory()

    response = support_client.get("/admin/conversions/conversion/export/?status__exact=pending")
    b"".join(response.streaming_content)

    event = AuditEvent.objects.get()
    assert event.action == AuditAction.CSV_EXPORTED
    assert event.actor == "operator:sam"
    assert event.details["query"] == "status__exact=pending"
    assert event.details["file"] == response["Content-Disposition"].split('"')[1]


def test_create_token_leaves_a_record_without_the_secret():
    StoreFactory(name="Awesome Store")
    out = StringIO()

    call_command(
        "create_token", "--store", "Awesome Store", "--name", "erp", stdout=out, stderr=StringIO()
    )

    secret = out.getvalue().strip()
    token = StoreToken.objects.get()
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.TOKEN_ISSUED_BY_COMMAND
    assert event.actor.startswith("command:create_token (")
    assert event.target == f"{token.prefix}… (Awesome Store)"
    assert event.details == {"kind": "store", "name": "erp"}
    assert secret[len(token.prefix) :] not in json.dumps(event.details) + event.target


def test_onboard_leaves_a_record_and_the_history_of_what_it_wrote(tmp_path):
    path = tmp_path / "stores.json"
    path.write_text(json.dumps(DOCUMENT))

    call_command("onboard", str(path), "--issue-tokens", stdout=StringIO())

    event = AuditEvent.objects.get()
    assert event.action == AuditAction.ONBOARD_RUN
    assert event.target == str(path)
    assert event.details == {
        "stores": ["Awesome Store"],
        "programs": ["Awesome Store SE"],
        "partners": ["Refunder SE"],
        "issued_tokens": True,
    }
    assert Program.history.get().history_type == "+"
    assert {record.name: record.percent for record in Event.history.all()} == {
        "Shoes": Decimal("8.000"),
        "Newsletter": None,
    }


def test_the_audit_is_for_looking_only(operator_client, support_client):
    event = AuditEvent.objects.create(
        action=AuditAction.TOKEN_REVOKED, actor="operator:olivia", target="rts_abcdefgh…"
    )

    assert support_client.get("/admin/audit/auditevent/").status_code == 200
    assert "rts_abcdefgh…" in support_client.get("/admin/audit/auditevent/").content.decode()
    assert operator_client.post(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert operator_client.get("/admin/audit/auditevent/add/").status_code == 403
    assert AuditEvent.objects.count() == 1


def test_a_tokens_history_never_holds_its_hash(operator_client):
    token, _ = issue_store_token(StoreFactory(), name="erp")

    record = StoreToken.history.get()
    page = operator_client.get(f"/admin/stores/storetoken/{token.pk}/history/").content.decode()

    assert not hasattr(record, "key_hash")
    assert token.key_hash not in page
