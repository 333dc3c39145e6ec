"""The README's "Testing your integration", as a store developer with only a token does it."""

import json
from urllib.parse import parse_qs, urlsplit

from conversions.models import Conversion
from tests.shop import transaction_payload


def test_a_store_developer_tests_the_tag_and_the_api_and_reads_both_outcomes(
    shop, store_client, client
):
    # 1. a test click, and the URL a browser would open
    made = store_client.post(
        "/api/v2/test-clicks", {"program": str(shop.program.uuid)}, format="json"
    )
    assert made.status_code == 201
    click = made.json()["data"]["uuid"]
    assert parse_qs(urlsplit(made.json()["data"]["url"]).query)["click"] == [click]

    # 2. the confirmation page's tag reports order T-1 (debug mode, as the README says)
    beacon = client.post(
        "/track/v2/conversion?debug=1",
        data=json.dumps({"kind": "transaction", **transaction_payload(shop, click=click)}),
        content_type="text/plain",
        HTTP_ORIGIN="https://www.store.example",
    )
    assert beacon.json()["data"]["outcome"] == "created"

    # 3. the store's server reports another order, in the wrong currency: refused
    refused = store_client.post(
        "/api/v2/transactions",
        transaction_payload(shop, click=click, orderNumber="T-2", currency="EUR"),
        format="json",
    )
    assert refused.status_code == 422

    # 4. the report log shows both
    reports = store_client.get("/api/v2/reports").json()["data"]
    assert [
        (item["source"], item["outcome"], item["code"], item["order_number"], item["test"])
        for item in reports
    ] == [
        ("api", "refused", "currency_mismatch", "T-2", False),
        ("script", "created", None, "692549563", True),
    ]
    assert reports[1]["conversion"] == str(Conversion.objects.get().uuid)
    assert Conversion.objects.get().test is True
