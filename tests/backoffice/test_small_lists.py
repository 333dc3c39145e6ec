import pytest

from tests.backoffice.helpers import listed
from tests.factories import EventFactory, PartnerFactory, ProgramFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("term", ["Awesome", "not a uuid ' %", "00000000-0000-0000-0000-00000000"])
def test_stores_programs_events_and_partners_are_searched_by_name_or_exact_uuid(
    support_client, term
):
    for url in [
        "/admin/stores/store/",
        "/admin/stores/program/",
        "/admin/stores/event/",
        "/admin/partners/partner/",
    ]:
        assert support_client.get(url, {"q": term}).status_code == 200, url


def test_a_store_is_found_by_its_uuid_and_by_part_of_its_name(support_client):
    wanted = StoreFactory(name="Awesome Store")
    StoreFactory(name="Nordic Outdoor")

    by_uuid = listed(support_client.get("/admin/stores/store/", {"q": str(wanted.uuid)}))
    by_name = listed(support_client.get("/admin/stores/store/", {"q": "awesome"}))

    assert by_uuid == by_name == [wanted]


def test_a_program_event_and_partner_are_found_by_name(support_client):
    program = ProgramFactory(name="Awesome Store SE")
    event = EventFactory(program=program, name="Newsletter sign-up")
    partner = PartnerFactory(name="Refunder SE")

    assert listed(support_client.get("/admin/stores/program/", {"q": "awesome"})) == [program]
    assert listed(support_client.get("/admin/stores/event/", {"q": "newsletter"})) == [event]
    assert listed(support_client.get("/admin/partners/partner/", {"q": "refunder"})) == [partner]
