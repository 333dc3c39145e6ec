import pytest
from openapi_spec_validator import validate
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_openapi_document_describes_both_partner_calls_with_examples():
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    document = response.json()
    validate(document)
    feed = document["paths"]["/api/v2/partner/conversions"]["get"]
    programs = document["paths"]["/api/v2/partner/programs"]["get"]
    assert [parameter["name"] for parameter in feed["parameters"]] == ["cursor", "limit"]
    assert sorted(feed["responses"]) == ["200", "400", "401", "403"]
    assert sorted(feed["responses"]["200"]["content"]["application/json"]["examples"]) == [
        "APage",
        "UpToDate",
    ]
    assert sorted(feed["responses"]["400"]["content"]["application/json"]["examples"]) == [
        "BadCursor",
        "BadLimit",
    ]
    assert sorted(programs["responses"]["200"]["content"]["application/json"]["examples"]) == [
        "Programs"
    ]
    assert feed["security"] == [{"bearerAuth": []}]
    page_schema = document["components"]["schemas"]["FeedPage"]
    assert sorted(page_schema["properties"]) == ["data", "has_more", "next_cursor"]
