import html

import pytest
from django.utils.html import escape

from conversions.tag.snippets import program_snippets
from partners.models import Admission
from stores.models import Event, Program
from tests.factories import (
    AdmissionFactory,
    ConversionFactory,
    EventFactory,
    LeadEventFactory,
    PartnerFactory,
    ProgramFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/stores/program/add/"


def program_form(store, partner, **overrides) -> dict:
    """The program page's form as a browser posts it: the program, two events, one partner."""
    data = {
        "store": store.pk,
        "name": "Awesome Store SE",
        "status": "active",
        "currency": "SEK",
        "landing_url": "https://www.awesome-store.example/",
        "allowed_domains": "awesome-store.example\r\n\r\nawesome-store.example:8443\r\n",
        "redirect_page_url": "https://www.awesome-store.example/retrack",
        "attribution_days": "30",
        "validation_days": "45",
        # The limits' fields, as the page fills them in with the defaults.
        "max_order_sum": "10000000",
        "max_line_quantity": "1000",
        "max_commission": "1000000",
        "max_conversions_per_click_per_day": "3",
        "min_seconds_to_conversion": "10",
        "claim_days": "90",
        "events-TOTAL_FORMS": "2",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
        "events-0-name": "Shoes",
        "events-0-kind": "transaction",
        "events-0-percent": "8.5",
        "events-0-fixed_amount": "",
        "events-1-name": "Newsletter",
        "events-1-kind": "lead",
        "events-1-percent": "",
        "events-1-fixed_amount": "4000",
        "admissions-TOTAL_FORMS": "1",
        "admissions-INITIAL_FORMS": "0",
        "admissions-MIN_NUM_FORMS": "0",
        "admissions-MAX_NUM_FORMS": "1000",
        "admissions-0-partner": partner.pk,
    }
    data.update(overrides)
    return data


def errors_of(response) -> str:
    return html.unescape(response.content.decode())


def test_it_onboards_a_program_with_its_events_and_partners_on_one_page(operator_client):
    # given
    store = StoreFactory(name="Awesome Store")
    partner = PartnerFactory(name="Refunder SE")

    # when
    response = operator_client.post(ADD_URL, program_form(store, partner))

    # then
    assert response.status_code == 302
    program = Program.objects.get()
    assert program.store == store
    assert program.allowed_domains == ["awesome-store.example", "awesome-store.example:8443"]
    assert program.redirect_page_url == "https://www.awesome-store.example/retrack"
    assert (program.attribution_days, program.validation_days, program.claim_days) == (30, 45, 90)
    events = {event.name: event for event in Event.objects.filter(program=program)}
    assert str(events["Shoes"].percent) == "8.500"
    assert events["Shoes"].fixed_amount is None
    assert events["Newsletter"].fixed_amount == 4000
    assert events["Newsletter"].percent is None
    assert list(Admission.objects.values_list("program", "partner")) == [(program.pk, partner.pk)]


@pytest.mark.parametrize(
    ("_case", "overrides", "message"),
    [
        (
            "landing URL on another host",
            {"landing_url": "https://evil.example/"},
            "The landing URL must be an http(s) URL on one of the allowed domains "
            "(awesome-store.example, awesome-store.example:8443).",
        ),
        (
            "landing URL on a look-alike host",
            {"landing_url": "https://awesome-store.example.evil.test/"},
            "The landing URL must be an http(s) URL on one of the allowed domains",
        ),
        (
            "redirect page outside the allowed domains",
            {"redirect_page_url": "https://pages.other.example/retrack"},
            "The redirect page must be an http(s) URL on one of the allowed domains",
        ),
        (
            "no allowed domain",
            {"allowed_domains": "\r\n"},
            "Enter at least one domain.",
        ),
        (
            "an allowed domain that is no host name",
            {"allowed_domains": "awesome-store.example\r\nnot a host"},
            "Not a valid host name: not a host. Write host names such as store.example "
            "(store.example:8443 for a port).",
        ),
        (
            "percentage over 100",
            {"events-0-percent": "100.5"},
            "A percentage must be from 0 to 100, with at most 3 decimals.",
        ),
        (
            "negative percentage",
            {"events-0-percent": "-1"},
            "A percentage must be from 0 to 100, with at most 3 decimals.",
        ),
        (
            "negative fixed amount",
            {"events-1-fixed_amount": "-4000"},
            "A fixed amount cannot be negative (minor units: 4000 means 40.00).",
        ),
        (
            "both a percentage and a fixed amount",
            {"events-0-fixed_amount": "500"},
            "Give either a percentage or a fixed amount, not both.",
        ),
        (
            "neither a percentage nor a fixed amount",
            {"events-1-fixed_amount": ""},
            "Give a percentage or a fixed amount.",
        ),
        (
            "a currency that is no ISO-4217 code",
            {"currency": "SE1"},
            "Enter a three-letter ISO-4217 code, such as SEK.",
        ),
        (
            "attribution period over ten years",
            {"attribution_days": "3651"},
            "Ensure this value is less than or equal to 3650.",
        ),
    ],
)
def test_it_refuses_a_bad_program_and_writes_nothing(operator_client, _case, overrides, message):
    # given
    store = StoreFactory()
    partner = PartnerFactory()

    # when
    response = operator_client.post(ADD_URL, program_form(store, partner, **overrides))

    # then
    assert response.status_code == 200
    assert message in errors_of(response)
    assert Program.objects.count() == 0
    assert Event.objects.count() == 0
    assert Admission.objects.count() == 0


def test_it_upper_cases_a_currency_typed_in_lower_case(operator_client):
    response = operator_client.post(
        ADD_URL, program_form(StoreFactory(), PartnerFactory(), currency="nok")
    )

    assert response.status_code == 302
    assert Program.objects.get().currency == "NOK"


def test_it_refuses_to_change_the_currency_of_a_program_with_conversions(operator_client):
    # given
    conversion = ConversionFactory()
    program = conversion.program
    data = program_form(
        program.store,
        PartnerFactory(),
        name=program.name,
        currency="EUR",
        landing_url=program.landing_url,
        allowed_domains="store.example",
        redirect_page_url=program.redirect_page_url,
        **{"events-TOTAL_FORMS": "0", "admissions-TOTAL_FORMS": "0"},
    )

    # when
    response = operator_client.post(f"/admin/stores/program/{program.pk}/change/", data)

    # then
    assert response.status_code == 200
    assert (
        "The currency cannot change once the program has conversions: they are all in SEK."
        in errors_of(response)
    )
    program.refresh_from_db()
    assert program.currency == "SEK"


def test_the_program_page_shows_each_admitted_partners_tracking_link(operator_client, settings):
    # given
    settings.RETRACK_PUBLIC_URL = "https://retrack.example"
    program = ProgramFactory()
    EventFactory(program=program)
    first = AdmissionFactory(program=program, partner=PartnerFactory(name="Refunder NO")).partner
    second = AdmissionFactory(program=program, partner=PartnerFactory(name="Refunder SE")).partner

    # when
    response = operator_client.get(f"/admin/stores/program/{program.pk}/change/")

    # then
    page = errors_of(response)
    for partner in (first, second):
        link = (
            f"https://retrack.example/track/v2/click?publisher={partner.uuid}"
            f"&program={program.uuid}&ref={{ref}}"
        )
        assert f'value="{link}"' in page
    assert page.index("Refunder NO") < page.index("Refunder SE")


def test_the_program_page_shows_the_stores_integration_snippets(operator_client):
    # given
    program = ProgramFactory()
    EventFactory(program=program, name="Shoes")
    LeadEventFactory(program=program, name="Newsletter")

    # when
    response = operator_client.get(f"/admin/stores/program/{program.pk}/change/")

    # then
    page = response.content.decode()
    snippets = program_snippets(program)
    assert set(snippets) == {"loader_transaction", "lead", "noscript_pixel", "redirect_page"}
    for text in snippets.values():
        assert f">{escape(text)}</textarea>" in page
    assert "Confirmation page: the tag reporting a purchase" in page


def test_a_program_without_a_redirect_page_gets_no_redirect_page_snippet(operator_client):
    with_page = ProgramFactory(redirect_page_url="https://www.awesome-store.example/retrack")
    without = ProgramFactory(redirect_page_url="")

    page_with = operator_client.get(f"/admin/stores/program/{with_page.pk}/change/")
    page_without = operator_client.get(f"/admin/stores/program/{without.pk}/change/")

    assert "The store&#x27;s redirect page" in page_with.content.decode()
    assert "The store&#x27;s redirect page" not in page_without.content.decode()
    assert "Confirmation page: the tag reporting a purchase" in page_without.content.decode()


def test_links_and_snippets_have_copy_buttons_without_inline_script(operator_client):
    program = ProgramFactory()
    AdmissionFactory(program=program)

    page = operator_client.get(f"/admin/stores/program/{program.pk}/change/").content.decode()

    assert '<script src="/static/backoffice/copy.js" defer></script>' in page
    assert page.count("data-copyable") == 1 + len(program_snippets(program))
    assert "onfocus=" not in page and "onclick=" not in page
    assert 'class="copyable wide" data-copyable aria-label="Tracking link for' in page


def test_a_new_program_starts_with_the_default_attribution_and_validation_periods(
    operator_client,
):
    page = operator_client.get(ADD_URL).content.decode()

    assert 'name="attribution_days" value="30"' in page
    assert 'name="validation_days" value="45"' in page


def test_the_store_page_links_to_adding_a_program_for_it(operator_client):
    store = StoreFactory()

    page = operator_client.get(f"/admin/stores/store/{store.pk}/change/").content.decode()
    form = operator_client.get(f"{ADD_URL}?store={store.pk}").content.decode()

    assert f'<a href="{ADD_URL}?store={store.pk}" class="addlink">Add a program</a>' in page
    assert f'<option value="{store.pk}" selected>' in form
