import pytest

from retrack.jobs.services import run_job

pytestmark = pytest.mark.django_db


def test_the_back_office_shows_when_each_job_last_ran(support_client):
    run_job("approve_due_conversions", lambda: "Approved 7 conversions.")

    response = support_client.get("/admin/jobs/jobrun/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "approve_due_conversions" in page
    assert "Approved 7 conversions." in page
