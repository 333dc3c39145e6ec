"""/metrics: what a Prometheus server scrapes, and what each count means."""

import json

import pytest
from django.db import transaction
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from conversions.models import Conversion
from conversions.services import approve_conversion
from partners.models import WebhookDelivery
from partners.webhooks.services import attempt_webhook_delivery
from retrack.metrics import observe_request
from stores.services import issue_store_token
from tests.factories import AdmissionFactory, ClickFactory, LeadEventFactory
from tests.operations.helpers import call, run_python
from tests.partners.receiver import WebhookReceiver
from tests.partners.test_webhook_delivery import announce

TOKEN = "metrics-token-for-tests"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.RETRACK_METRICS_TOKEN = TOKEN


def scrape() -> dict[tuple[str, frozenset], float]:
    status, headers, body = call("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def change(before: dict, after: dict, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def tracking_link(admission, **extra: str) -> tuple[int, dict[str, str], bytes]:
    query = f"publisher={admission.partner.uuid}&program={admission.program.uuid}&ref=38315327"
    extra.setdefault("HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0")
    return call("/track/v2/click", QUERY_STRING=query, **extra)


def test_metrics_answer_404_when_no_token_is_set(settings):
    settings.RETRACK_METRICS_TOKEN = ""

    status, _, body = call("/metrics", HTTP_AUTHORIZATION="Bearer ")

    assert status == 404
    assert body == b"Not found.\n"


@pytest.mark.parametrize(
    "authorization", ["", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"]
)
def test_metrics_answer_401_without_the_right_bearer_token(authorization):
    status, headers, body = call("/metrics", HTTP_AUTHORIZATION=authorization)

    assert status == 401
    assert headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"retrack_" not in body


def test_clicks_are_counted_by_outcome_where_the_router_answers_them():
    admission = AdmissionFactory()
    before = scrape()

    tracking_link(admission)
    tracking_link(admission, HTTP_USER_AGENT="curl/8.5.0")
    call("/track/v2/click", QUERY_STRING="publisher=nobody")
    after = scrape()

    assert change(before, after, "retrack_clicks_total", outcome="redirected", status="302") == 1
    assert change(before, after, "retrack_clicks_total", outcome="bot", status="302") == 1
    assert change(before, after, "retrack_clicks_total", outcome="refused", status="404") == 1
    assert (
        change(
            before,
            after,
            "retrack_http_request_duration_seconds_count",
            endpoint="tracking_link",
            status="302",
        )
        == 2
    )


def test_a_click_that_could_not_be_stored_is_counted_unavailable(monkeypatch):
    from django.db import OperationalError

    def database_down(parameters, visitor):
        raise OperationalError("the server closed the connection")

    monkeypatch.setattr("clicks.services.record_click", database_down)
    admission = AdmissionFactory()
    before = scrape()

    status, _, _ = tracking_link(admission)

    assert status == 503
    assert (
        change(before, scrape(), "retrack_clicks_total", outcome="unavailable", status="503") == 1
    )


def lead_client_and_payload() -> tuple[APIClient, dict]:
    event = LeadEventFactory(fixed_amount=4000)
    click = ClickFactory(program=event.program)
    _, secret = issue_store_token(event.program.store, "checkout server")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    payload = {"event": str(event.uuid), "click": str(click.uuid), "reference": "member-1001"}
    return client, payload


def test_store_api_reports_are_counted_by_outcome(django_capture_on_commit_callbacks):
    client, payload = lead_client_and_payload()
    before = scrape()

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/v2/leads", payload, format="json").status_code == 201
    assert client.post("/api/v2/leads", payload, format="json").status_code == 200
    invalid = client.post("/api/v2/leads", {**payload, "reference": ""}, format="json")
    assert invalid.status_code == 400
    after = scrape()

    assert change(before, after, "retrack_reports_total", source="api", outcome="created") == 1
    assert change(before, after, "retrack_reports_total", source="api", outcome="replayed") == 1
    assert change(before, after, "retrack_reports_total", source="api", outcome="invalid") == 1
    assert change(before, after, "retrack_conversions_total", status="pending") == 1
    assert (
        change(
            before,
            after,
            "retrack_http_request_duration_seconds_count",
            endpoint="/api/v2/leads",
            status="201",
        )
        == 1
    )


def test_tag_reports_are_counted_by_outcome(client):
    before = scrape()

    response = client.post(
        "/track/v2/conversion",
        data=json.dumps({"kind": "lead", "click": "not-a-click"}),
        content_type="text/plain",
        HTTP_ORIGIN="https://www.awesome-store.example",
    )

    assert response.status_code == 204
    assert change(before, scrape(), "retrack_reports_total", source="tag", outcome="refused") == 1


def test_conversions_are_counted_when_their_decision_is_committed(
    django_capture_on_commit_callbacks,
):
    client, payload = lead_client_and_payload()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v2/leads", payload, format="json")
    conversion = Conversion.objects.get()
    before = scrape()

    with django_capture_on_commit_callbacks(execute=True):
        approve_conversion(conversion, actor="operator:olivia")

    assert change(before, scrape(), "retrack_conversions_total", status="approved") == 1


def test_a_rolled_back_decision_is_not_counted(django_capture_on_commit_callbacks):
    client, payload = lead_client_and_payload()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v2/leads", payload, format="json")
    conversion = Conversion.objects.get()
    before = scrape()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        approve_conversion(conversion, actor="operator:olivia")
        raise RuntimeError("the operator's request failed after the approval")

    assert callbacks == []
    assert change(before, scrape(), "retrack_conversions_total", status="approved") == 0
    assert Conversion.objects.get().status == "pending"


def test_webhook_delivery_attempts_are_counted_by_outcome(settings):
    settings.RETRACK_WEBHOOK_ALLOW_PRIVATE = True
    settings.RETRACK_WEBHOOK_RETRY_SECONDS = [60]
    before = scrape()

    with WebhookReceiver([204]) as receiver:
        _, _, delivery = announce(receiver.url)
        attempt_webhook_delivery(delivery.pk)
    with WebhookReceiver([503, 503]) as receiver:
        _, _, delivery = announce(receiver.url)
        for _ in range(2):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            attempt_webhook_delivery(delivery.pk)
    after = scrape()

    for outcome in ("delivered", "retrying", "failed"):
        assert change(before, after, "retrack_webhook_deliveries_total", outcome=outcome) == 1


def test_metrics_of_every_gunicorn_worker_are_added_up(tmp_path):
    # Two worker processes count clicks into the shared directory; a third answers
    # /metrics for them all, as under gunicorn.
    environment = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    worker = "from retrack.metrics import count_click\ncount_click(302)\ncount_click(404)\n"
    for _ in range(2):
        result = run_python(worker, **environment)
        assert result.returncode == 0, result.stderr

    result = run_python(
        "import django; django.setup()\n"
        "from tests.operations.helpers import call\n"
        "status, headers, body = call('/metrics', HTTP_AUTHORIZATION='Bearer t')\n"
        "print(status)\n"
        "print(body.decode())\n",
        RETRACK_METRICS_TOKEN="t",
        **environment,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("200\n")
    assert 'retrack_clicks_total{outcome="redirected",status="302"} 2.0' in result.stdout
    assert 'retrack_clicks_total{outcome="refused",status="404"} 2.0' in result.stdout


def test_paths_no_pattern_matches_share_one_latency_series(client):
    before = scrape()

    client.get("/wp-login.php")
    client.get("/.env")
    after = scrape()

    unmatched = {"endpoint": "unmatched", "status": "404"}
    assert change(before, after, "retrack_http_request_duration_seconds_count", **unmatched) == 2
    assert not any("wp-login" in str(labels) for _, labels in after)


def test_a_latency_lands_in_the_first_bucket_at_least_as_long():
    before = scrape()

    observe_request("test_endpoint", 200, 0.003)
    after = scrape()

    def bucket(bound: str) -> float:
        return change(
            before,
            after,
            "retrack_http_request_duration_seconds_bucket",
            endpoint="test_endpoint",
            status="200",
            le=bound,
        )

    assert (bucket("0.0025"), bucket("0.005"), bucket("10.0"), bucket("+Inf")) == (0, 1, 1, 1)
    labels = {"endpoint": "test_endpoint", "status": "200"}
    assert change(before, after, "retrack_http_request_duration_seconds_sum", **labels) == 0.003
