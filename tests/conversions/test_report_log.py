"""The report log (contract section 8): every store API create and amend, and its reading."""

import json
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from conversions.models import Conversion, ReportLogEntry
from conversions.services.report_log import loggable_payload
from conversions.tasks import prune_report_log_job
from retrack.jobs.models import JobRun
from stores.services import issue_store_token
from tests.factories import ClickFactory, ProgramFactory, StoreFactory
from tests.shop import lead_payload, transaction_payload


def _post(client, payload, path="/api/v2/transactions"):
    return client.post(path, payload, format="json")


def _reports(client, **params):
    return client.get("/api/v2/reports", params)


def test_it_logs_a_created_transaction(shop, store_client, store_secret):
    response = _post(store_client, transaction_payload(shop))

    entry = ReportLogEntry.objects.get()
    assert response.status_code == 201
    assert entry.source == "api"
    assert entry.kind == "transaction"
    assert entry.outcome == "created"
    assert entry.code is None
    assert entry.status_code == 201
    assert entry.store == shop.store
    assert entry.program == shop.program
    assert entry.conversion == Conversion.objects.get()
    assert entry.click == str(shop.click.uuid)
    assert entry.key == "692549563"
    assert entry.test is False
    assert json.loads(entry.payload) == transaction_payload(shop)
    assert store_secret not in entry.payload


def test_it_logs_a_replay_and_a_refusal_with_its_code(shop, store_client):
    _post(store_client, transaction_payload(shop))
    _post(store_client, transaction_payload(shop))
    refused = _post(store_client, transaction_payload(shop, orderNumber="2", currency="EUR"))

    outcomes = list(
        ReportLogEntry.objects.order_by("uuid").values_list("outcome", "code", "status_code")
    )
    assert refused.status_code == 422
    assert outcomes == [
        ("created", None, 201),
        ("replayed", None, 200),
        ("refused", "currency_mismatch", 422),
    ]
    assert Conversion.objects.count() == 1


def test_it_logs_a_body_that_is_not_json(shop, store_client):
    response = store_client.post(
        "/api/v2/transactions", b"{not json", content_type="application/json"
    )

    entry = ReportLogEntry.objects.get()
    assert response.status_code == 400
    assert (entry.outcome, entry.code, entry.status_code) == ("refused", "invalid", 400)
    assert entry.payload == "{not json"
    assert entry.store == shop.store
    assert not Conversion.objects.exists()


def test_it_logs_an_amendment(shop, store_client):
    created = _post(store_client, lead_payload(shop), "/api/v2/leads").json()["data"]

    response = store_client.patch(
        f"/api/v2/leads/{created['uuid']}",
        {"status": "rejected", "reason": "Fake sign-up"},
        format="json",
    )

    assert response.status_code == 200
    amended = ReportLogEntry.objects.order_by("uuid").last()
    assert (amended.outcome, amended.kind, amended.status_code) == ("amended", "lead", 200)
    assert str(amended.conversion.uuid) == created["uuid"]


def test_it_keeps_at_most_8_kb_of_a_payload_cut_on_a_character_boundary():
    payload = ("å" * 10_000).encode()

    logged = loggable_payload(payload)

    assert len(logged.encode()) <= 8 * 1024
    assert logged.endswith("å…")
    assert loggable_payload(b"a\x00b\xff") == "a\\u0000b"


def test_a_store_reads_its_own_reports_newest_first(shop, store_client):
    other_store = StoreFactory()
    other_click = ClickFactory(program=ProgramFactory(store=other_store))
    other_client = store_client.__class__()
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_store_token(other_store)[1]}")
    _post(other_client, transaction_payload(shop, click=str(other_click.uuid)))
    _post(store_client, transaction_payload(shop))
    _post(store_client, transaction_payload(shop, click=str(other_click.uuid), orderNumber="9"))

    response = _reports(store_client)

    assert response.status_code == 200
    body = response.json()
    assert [(item["outcome"], item["code"]) for item in body["data"]] == [
        ("refused", "click_not_yours"),
        ("created", None),
    ]
    assert body["has_more"] is False
    created = body["data"][1]
    assert created["source"] == "api"
    assert created["kind"] == "transaction"
    assert created["order_number"] == "692549563"
    assert created["program"] == str(shop.program.uuid)
    assert created["click"] == str(shop.click.uuid)
    assert created["conversion"] == str(Conversion.objects.get(order_number="692549563").uuid)
    assert created["status_code"] == 201
    assert created["test"] is False
    assert json.loads(created["payload"])["orderNumber"] == "692549563"


def test_it_pages_older_reports_with_the_cursor_and_filters_them(shop, store_client):
    for number in range(3):
        _post(store_client, transaction_payload(shop, orderNumber=f"n{number}"))
    _post(store_client, transaction_payload(shop, orderNumber="x", currency="EUR"))

    first = _reports(store_client, limit=2, outcome="created").json()
    second = _reports(store_client, limit=2, outcome="created", cursor=first["next_cursor"]).json()
    refused = _reports(store_client, outcome="refused", source="api").json()
    by_program = _reports(store_client, program=str(ProgramFactory().uuid)).json()

    assert [item["order_number"] for item in first["data"]] == ["n2", "n1"]
    assert first["has_more"] is True
    assert [item["order_number"] for item in second["data"]] == ["n0"]
    assert second["has_more"] is False
    assert [item["code"] for item in refused["data"]] == ["currency_mismatch"]
    assert by_program["data"] == []


def test_it_refuses_an_unknown_parameter_and_a_limit_over_200(shop, store_client):
    misspelled = _reports(store_client, outcomes="refused")
    too_many = _reports(store_client, limit=201)
    bad_outcome = _reports(store_client, outcome="lost")

    assert misspelled.status_code == 400
    assert misspelled.json()["error"]["code"] == "parameter_unknown"
    assert misspelled.json()["error"]["fields"] == {"outcomes": ["is not a parameter of this call"]}
    assert too_many.status_code == 400
    assert list(too_many.json()["error"]["fields"]) == ["limit"]
    assert bad_outcome.status_code == 400
    assert list(bad_outcome.json()["error"]["fields"]) == ["outcome"]


def test_reports_need_a_store_token(shop, store_client):
    response = store_client.__class__().get("/api/v2/reports")

    assert response.status_code == 401


def test_old_reports_are_pruned(shop, store_client, settings):
    settings.RETRACK_REPORT_LOG_DAYS = 30
    _post(store_client, transaction_payload(shop))
    _post(store_client, transaction_payload(shop, orderNumber="2"))
    old = ReportLogEntry.objects.order_by("uuid").first()
    ReportLogEntry.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))

    output = StringIO()
    call_command("prune_report_log", stdout=output)

    assert list(ReportLogEntry.objects.values_list("key", flat=True)) == ["2"]
    assert output.getvalue() == "Deleted 1 report log entry older than 30 days.\n"


def test_the_periodic_job_prunes_the_log_and_records_its_run(shop, store_client):
    _post(store_client, transaction_payload(shop))
    ReportLogEntry.objects.update(received_at=timezone.now() - timedelta(days=40))

    summary = prune_report_log_job()

    assert summary == "Deleted 1 report log entry older than 30 days."
    assert not ReportLogEntry.objects.exists()
    assert JobRun.objects.get(name="prune_report_log").succeeded is True
