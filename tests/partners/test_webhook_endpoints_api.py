import base64

import pytest
from rest_framework.test import APIClient

from partners.models import WebhookDelivery, WebhookEndpoint
from stores.services import issue_store_token
from tests.factories import ClickFactory, ConversionFactory, PartnerFactory, StoreFactory
from tests.partners.helpers import client_for, record

pytestmark = pytest.mark.django_db

URL = "/api/v2/partner/webhooks"
# A public address written as an IP literal, so that registering it needs no DNS.
PUBLIC_URL = "https://93.184.215.14/retrack/webhooks"


def register(client, url=PUBLIC_URL, description="Cashback notifications"):
    return client.post(URL, {"url": url, "description": description}, format="json")


def test_it_registers_an_endpoint_and_shows_its_secret_once():
    partner = PartnerFactory()
    client = client_for(partner)

    response = register(client)

    assert response.status_code == 201
    data = response.json()["data"]
    endpoint = WebhookEndpoint.objects.get(partner=partner)
    assert response["Location"] == f"{URL}/{endpoint.uuid}"
    assert data == {
        "uuid": str(endpoint.uuid),
        "url": PUBLIC_URL,
        "description": "Cashback notifications",
        "active": True,
        "created_at": endpoint.created_at.isoformat().replace("+00:00", "Z"),
        "secret": endpoint.secret,
    }
    assert data["secret"].startswith("whsec_")
    assert len(base64.b64decode(data["secret"].removeprefix("whsec_"))) == 32
    listed = client.get(URL).json()["data"]
    assert listed == [{key: value for key, value in data.items() if key != "secret"}]


def test_it_lists_only_the_partners_own_endpoints():
    partner, other = PartnerFactory(), PartnerFactory()
    register(client_for(other))
    register(client_for(partner), url="https://93.184.215.15/hook")

    listed = client_for(partner).get(URL).json()["data"]

    assert [item["url"] for item in listed] == ["https://93.184.215.15/hook"]


@pytest.mark.parametrize(
    ("_case", "url", "message_start"),
    [
        ("plain http", "http://93.184.215.14/hook", "must be an https URL"),
        ("loopback", "https://127.0.0.1/hook", "must point to a public address"),
        ("localhost by name", "https://localhost/hook", "must point to a public address"),
        ("private network", "https://10.1.2.3/hook", "must point to a public address"),
        ("cloud metadata", "https://169.254.169.254/latest", "must point to a public address"),
        ("IPv6 loopback", "https://[::1]/hook", "must point to a public address"),
        ("IPv4-mapped IPv6", "https://[::ffff:10.0.0.1]/hook", "must point to a public address"),
        ("credentials", "https://user:pw@93.184.215.14/hook", "must not contain a user name"),
        ("no host", "https:///hook", "must name a host"),
        ("unresolvable", "https://no-such-host.invalid/hook", "host 'no-such-host.invalid'"),
        ("not a URL", "webhooks-please", "must be an https URL"),
        ("white space", "https://93.184.215.14/a b", "must not contain spaces"),
    ],
)
def test_it_refuses_an_endpoint_that_is_not_https_on_a_public_address(_case, url, message_start):
    partner = PartnerFactory()

    response = register(client_for(partner), url=url)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["url"][0].startswith(message_start)
    assert not WebhookEndpoint.objects.exists()


def test_it_allows_private_http_endpoints_only_when_configured(settings):
    settings.RETRACK_WEBHOOK_ALLOW_PRIVATE = True

    response = register(client_for(PartnerFactory()), url="http://127.0.0.1:9/hook")

    assert response.status_code == 201


def test_it_refuses_a_description_over_200_characters():
    response = register(client_for(PartnerFactory()), description="x" * 201)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"description": ["must be at most 200 characters"]}
    assert not WebhookEndpoint.objects.exists()


def test_it_refuses_an_eleventh_endpoint():
    client = client_for(PartnerFactory())
    for number in range(10):
        assert register(client, url=f"https://93.184.215.14/{number}").status_code == 201

    response = register(client, url="https://93.184.215.14/eleventh")

    assert response.status_code == 400
    assert WebhookEndpoint.objects.count() == 10


def test_it_deletes_an_endpoint_with_its_deliveries():
    partner = PartnerFactory()
    client = client_for(partner)
    endpoint_uuid = register(client).json()["data"]["uuid"]
    record(ConversionFactory(click=ClickFactory(partner=partner)))

    response = client.delete(f"{URL}/{endpoint_uuid}")

    assert response.status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_it_answers_404_for_another_partners_endpoint_and_deletes_nothing():
    owner = PartnerFactory()
    endpoint_uuid = register(client_for(owner)).json()["data"]["uuid"]
    intruder = client_for(PartnerFactory())

    deleted = intruder.delete(f"{URL}/{endpoint_uuid}")
    deliveries = intruder.get(f"{URL}/{endpoint_uuid}/deliveries")

    assert deleted.status_code == 404
    assert deleted.json()["error"]["code"] == "not_found"
    assert deliveries.status_code == 404
    assert WebhookEndpoint.objects.filter(uuid=endpoint_uuid).exists()


def test_it_lists_an_endpoints_deliveries_newest_first():
    partner = PartnerFactory()
    client = client_for(partner)
    endpoint_uuid = register(client).json()["data"]["uuid"]
    conversion = ConversionFactory(click=ClickFactory(partner=partner))
    created = record(conversion)
    approved = record(conversion, action="approved", status="approved")

    response = client.get(f"{URL}/{endpoint_uuid}/deliveries")

    assert response.status_code == 200
    data = response.json()["data"]
    assert [item["type"] for item in data] == ["conversion.approved", "conversion.created"]
    first = WebhookDelivery.objects.get(event_type="conversion.created")
    assert data[1] == {
        "event_id": str(first.event_id),
        "type": "conversion.created",
        "status": "pending",
        "attempts": 0,
        "last_status_code": None,
        "last_attempt_at": None,
        "next_attempt_at": first.next_attempt_at.isoformat().replace("+00:00", "Z"),
    }
    assert created.sequence < approved.sequence


def test_a_store_token_is_refused_and_registers_nothing():
    _, secret = issue_store_token(StoreFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = register(client)

    assert response.status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_no_token_is_refused():
    response = register(APIClient())

    assert response.status_code == 401
    assert not WebhookEndpoint.objects.exists()


def test_it_refuses_unknown_fields_and_a_body_that_is_no_object():
    client = client_for(PartnerFactory())

    unknown = client.post(URL, {"url": PUBLIC_URL, "events": ["all"]}, format="json")
    listed = client.post(URL, [PUBLIC_URL], format="json")

    assert unknown.status_code == 400
    assert unknown.json()["error"]["fields"] == {"events": ["is not a known field"]}
    assert listed.status_code == 400
    assert listed.json()["error"]["fields"] == {"body": ["must be a JSON object"]}
    assert not WebhookEndpoint.objects.exists()


def test_it_refuses_a_description_with_control_characters():
    response = register(client_for(PartnerFactory()), description="cash\u202eback")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["description"]
    assert not WebhookEndpoint.objects.exists()


def test_the_documented_registration_answers_as_the_server_does(openapi_document):
    operation = openapi_document["paths"]["/api/v2/partner/webhooks"]["post"]
    request = operation["requestBody"]["content"]["application/json"]["examples"]
    documented = operation["responses"]["201"]["content"]["application/json"]["examples"]
    body = next(iter(request.values()))["value"]

    # The documented host has no DNS here: the same body with a public address literal.
    response = client_for(PartnerFactory()).post(URL, {**body, "url": PUBLIC_URL}, format="json")

    assert response.status_code == 201
    answer = response.json()["data"]
    example = documented["Registered"]["value"]["data"]
    assert answer.keys() == example.keys()
    assert answer["description"] == example["description"]
    assert answer["secret"][:6] == example["secret"][:6] == "whsec_"
    assert len(answer["secret"]) == len(example["secret"])
