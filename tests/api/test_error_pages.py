import json

import pytest

from retrack.api.errors import server_error

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_answers_404_in_the_error_shape(client):
    response = client.get("/api/v3/transactions")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No such API call.", "fields": {}}
    }


def test_an_unknown_path_under_api_v2_answers_404_in_the_error_shape(client):
    response = client.post("/api/v2/orders", data="{}", content_type="application/json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_page_outside_the_api_answers_an_html_404(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_error_under_api_answers_500_in_the_error_shape(rf):
    response = server_error(rf.get("/api/v2/transactions"))

    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"


def test_the_api_docs_page_uses_assets_served_by_retrack(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr.net" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
