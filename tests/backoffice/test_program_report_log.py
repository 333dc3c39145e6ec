"""The program page's integration tools: the test click button and the report log."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clicks.models import Click
from conversions.models import ReportLogEntry
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


def _entry(program, **fields) -> ReportLogEntry:
    values = {
        "source": "script",
        "kind": "transaction",
        "outcome": "refused",
        "code": "origin_refused",
        "status_code": 403,
        "store_id": program.store_id,
        "program": program,
        "payload": "{}",
    }
    return ReportLogEntry.objects.create(**{**values, **fields})


def test_the_test_integration_button_makes_a_test_click_and_shows_its_url(operator_client):
    program = ProgramFactory()

    response = operator_client.post(f"/admin/stores/program/{program.pk}/test-click/", follow=True)

    click = Click.objects.get()
    assert click.test is True
    assert f"Test click {click.uuid}: open {program.redirect_page_url}?click={click.uuid}" in (
        response.content.decode()
    )


def test_the_test_click_url_takes_only_a_post(operator_client):
    program = ProgramFactory()

    response = operator_client.get(f"/admin/stores/program/{program.pk}/test-click/")

    assert response.status_code == 405
    assert not Click.objects.exists()


def test_the_program_page_shows_reports_refusals_by_code_and_the_last_per_source(
    operator_client,
):
    program = ProgramFactory()
    now = timezone.now()
    _entry(program, payload='{"orderNumber": "<script>alert(1)</script>"}')
    _entry(program, received_at=now - timedelta(days=3))
    _entry(program, source="api", outcome="created", code=None, status_code=201)

    page = operator_client.get(f"/admin/stores/program/{program.pk}/change/").content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<tr><td>origin_refused</td><td>1</td><td>2</td></tr>" in page
    assert "<tr><td>Pixel</td><td>never</td></tr>" in page
    assert "Testing your integration" in page
