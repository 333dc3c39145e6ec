"""The fast path's own rules: the hosts it answers, the redirect it checks before storing,
the refs it refuses, a restarted database, and an INSERT built from the model."""

import pytest

from clicks.fast_path import insert_click
from clicks.models import Click
from tests.clicks.helpers import assert_refused, call, link, link_query, open_link, query_of
from tests.factories import AdmissionFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def test_a_click_on_a_host_allowed_hosts_does_not_list_is_refused_as_any_other_path_is():
    status, _, _ = call("/track/v2/click", link_query(), HTTP_HOST="evil.example")
    other_status, _, _ = call("/admin/login/", HTTP_HOST="evil.example")

    assert status == other_status == "400 Bad Request"
    assert Click.objects.count() == 0


def test_a_click_on_an_allowed_host_is_redirected_whatever_its_case_and_port(settings):
    settings.ALLOWED_HOSTS = [".retrack.example"]

    status, _, _ = call("/track/v2/click", link_query(), HTTP_HOST="Track.RETRACK.example:8443")

    assert status == "302 Found"
    assert Click.objects.count() == 1


def test_a_click_is_judged_by_its_forwarded_host_when_django_is_told_to_believe_it(settings):
    settings.USE_X_FORWARDED_HOST = True

    status, _, _ = call(
        "/track/v2/click",
        link_query(),
        HTTP_HOST="testserver",
        HTTP_X_FORWARDED_HOST="evil.example",
    )

    assert status == "400 Bad Request"
    assert Click.objects.count() == 0


def test_a_click_without_a_host_header_is_judged_by_the_server_name(settings):
    settings.ALLOWED_HOSTS = ["retrack.example"]

    refused, _, _ = call("/track/v2/click", link_query(), SERVER_NAME="evil.example")
    allowed, _, _ = call("/track/v2/click", link_query(), SERVER_NAME="retrack.example")

    assert (refused, allowed) == ("400 Bad Request", "302 Found")
    assert Click.objects.count() == 1


def test_in_debug_an_empty_allowed_hosts_admits_only_localhost(settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = []

    allowed, _, _ = call("/track/v2/click", link_query(), HTTP_HOST="localhost:8000")
    refused, _, _ = call("/track/v2/click", link_query(), HTTP_HOST="evil.example")

    assert (allowed, refused) == ("302 Found", "400 Bad Request")
    assert Click.objects.count() == 1


@pytest.mark.parametrize("scheme", ["Https", "HTTPS", "hTTp"])
def test_it_lower_cases_the_scheme_of_a_deeplink(client, partner, direct_program, scheme):
    deeplink = f"{scheme}://www.direct-store.example/skor?size=42"

    response = open_link(client, link(partner, direct_program, deeplink=deeplink))

    click = Click.objects.get()
    expected = f"{scheme.lower()}://www.direct-store.example/skor?size=42"
    assert response.status_code == 302
    assert response["Location"] == f"{expected}&click={click.uuid}"
    assert click.deeplink == expected


def test_it_sends_a_mixed_case_scheme_to_the_redirect_page_lower_cased(client, partner, program):
    deeplink = "Https://www.awesome-store.example/skor"

    response = open_link(client, link(partner, program, deeplink=deeplink))

    assert response.status_code == 302
    assert query_of(response["Location"])["deeplink"] == ["https://www.awesome-store.example/skor"]


def test_it_checks_the_redirect_before_it_stores_the_click(client, partner, caplog):
    # A landing URL the program's form would refuse, written past it.
    program = ProgramFactory(landing_url="ftp://www.store.example/", redirect_page_url="")
    AdmissionFactory(partner=partner, program=program)

    response = open_link(client, link(partner, program))

    assert response.status_code == 500
    assert "Location" not in response
    assert Click.objects.count() == 0
    assert "Unsafe redirect" in caplog.text


BIDI_CONTROLS = [chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]


@pytest.mark.parametrize("name", ["ref", "ref2", "ref3"])
@pytest.mark.parametrize("character", BIDI_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_it_refuses_a_ref_with_a_bidirectional_override(client, partner, program, name, character):
    response = open_link(client, link(partner, program, **{name: f"ref-{character}77-fer"}))

    assert_refused(response, 400, f"“{name}” holds characters it cannot")


def test_it_stores_a_ref_with_right_to_left_text(client, partner, program):
    response = open_link(client, link(partner, program, ref="مرحبا-77"))

    assert response.status_code == 302
    assert Click.objects.get().ref == "مرحبا-77"


def test_the_insert_gives_a_field_it_is_not_given_the_models_default(partner, program):
    insert_click({"partner_id": partner.pk, "program_id": program.pk, "ref": "38315327"})

    click = Click.objects.get()
    unsaved = Click()
    assert click.ref == "38315327"
    assert (click.is_bot, click.is_anonymized, click.deeplink, click.ip_address) == (
        unsaved.is_bot,
        unsaved.is_anonymized,
        unsaved.deeplink,
        unsaved.ip_address,
    )
    assert click.uuid.version == 7


def test_the_insert_refuses_a_field_the_model_does_not_have(partner, program):
    with pytest.raises(TypeError, match="Click has no field"):
        insert_click({"partner_id": partner.pk, "program_id": program.pk, "shopper": "x"})

    assert Click.objects.count() == 0
