from decimal import Decimal

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from partners.models import Admission
from stores.models import ProgramStatus
from stores.services import issue_store_token
from tests.factories import (
    AdmissionFactory,
    EventFactory,
    LeadEventFactory,
    PartnerFactory,
    ProgramFactory,
    StoreFactory,
)
from tests.partners.helpers import client_for

pytestmark = pytest.mark.django_db

PROGRAMS_URL = "/api/v2/partner/programs"


def admitted_program(partner, **fields):
    program = ProgramFactory(**fields)
    AdmissionFactory(partner=partner, program=program)
    return program


@override_settings(RETRACK_PUBLIC_URL="https://retrack.example")
def test_it_lists_an_admitted_program_with_its_events_and_the_partners_tracking_link():
    partner = PartnerFactory(name="Refunder SE")
    store = StoreFactory(name="Awesome Store")
    program = admitted_program(
        partner,
        store=store,
        name="Awesome Store SE",
        currency="SEK",
        landing_url="https://www.awesome-store.example/",
        allowed_domains=["awesome-store.example"],
        attribution_days=30,
        validation_days=45,
    )
    shoes = EventFactory(program=program, name="Shoes", percent=Decimal("8.000"))
    socks = EventFactory(program=program, name="Socks", percent=Decimal("12.500"))
    newsletter = LeadEventFactory(program=program, name="Newsletter", fixed_amount=4000)

    response = client_for(partner).get(PROGRAMS_URL)

    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {
                "uuid": str(program.uuid),
                "name": "Awesome Store SE",
                "store": {"uuid": str(store.uuid), "name": "Awesome Store"},
                "currency": "SEK",
                "landing_url": "https://www.awesome-store.example/",
                "allowed_domains": ["awesome-store.example"],
                "attribution_days": 30,
                "validation_days": 45,
                "events": [
                    {
                        "uuid": str(newsletter.uuid),
                        "name": "Newsletter",
                        "kind": "lead",
                        "percent": None,
                        "fixed_amount": 4000,
                    },
                    {
                        "uuid": str(shoes.uuid),
                        "name": "Shoes",
                        "kind": "transaction",
                        "percent": "8",
                        "fixed_amount": None,
                    },
                    {
                        "uuid": str(socks.uuid),
                        "name": "Socks",
                        "kind": "transaction",
                        "percent": "12.5",
                        "fixed_amount": None,
                    },
                ],
                "tracking_link": "https://retrack.example/track/v2/click"
                f"?publisher={partner.uuid}&program={program.uuid}&ref={{ref}}",
            }
        ]
    }


def test_it_lists_only_active_programs_the_partner_is_admitted_to():
    partner = PartnerFactory()
    active = admitted_program(partner, name="Active")
    admitted_program(partner, name="Paused", status=ProgramStatus.PAUSED)
    admitted_program(partner, name="Closed", status=ProgramStatus.CLOSED)
    ProgramFactory(name="Not admitted")
    admitted_program(PartnerFactory(), name="Another partner's")

    response = client_for(partner).get(PROGRAMS_URL)

    assert [program["uuid"] for program in response.json()["data"]] == [str(active.uuid)]


def test_a_partner_without_admissions_gets_an_empty_list():
    ProgramFactory()

    response = client_for(PartnerFactory()).get(PROGRAMS_URL)

    assert response.status_code == 200
    assert response.json() == {"data": []}


def test_it_lists_programs_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    partner = PartnerFactory()
    for index in range(12):
        program = admitted_program(partner, name=f"Program {index:02}")
        EventFactory(program=program)
        LeadEventFactory(program=program)
    client = client_for(partner)

    # The token lookup, its last-used stamp, the programs with their stores, their events.
    with django_assert_max_num_queries(4):
        response = client.get(PROGRAMS_URL)

    assert len(response.json()["data"]) == 12
    assert all(len(program["events"]) == 2 for program in response.json()["data"])


def test_it_refuses_a_store_token_with_403():
    partner = PartnerFactory()
    admitted_program(partner)
    _, secret = issue_store_token(StoreFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = client.get(PROGRAMS_URL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Admission.objects.count() == 1


def test_it_refuses_a_call_without_a_token_with_401():
    response = APIClient().get(PROGRAMS_URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
