from decimal import Decimal

import pytest

from conversions.tag.snippets import program_snippets
from tests.factories import EventFactory, LeadEventFactory, ProgramFactory

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://retrack.example.com"


@pytest.fixture
def program(settings):
    settings.RETRACK_PUBLIC_URL = PUBLIC_URL
    return ProgramFactory(
        name="Awesome Store SE",
        currency="SEK",
        landing_url="https://www.awesome-store.example/",
        allowed_domains=["awesome-store.example", "localhost:8001"],
        redirect_page_url="https://www.awesome-store.example/retrack",
    )


def test_it_gives_the_four_snippets(program):
    # when
    snippets = program_snippets(program)

    # then
    assert sorted(snippets) == ["lead", "loader_transaction", "noscript_pixel", "redirect_page"]


def test_the_transaction_snippet_loads_the_tag_and_names_the_programs_events(program):
    # given
    shoes = EventFactory(program=program, name="Shoes", percent=Decimal("8"))
    socks = EventFactory(program=program, name="Socks", percent=Decimal("5"))

    # when
    snippet = program_snippets(program)["loader_transaction"]

    # then the order and its first line at Shoes, the second line at Socks
    assert f'src = "{PUBLIC_URL}/track/v2/retrack.js"' in snippet
    assert "window.re = window.re || function ()" in snippet
    assert f'event: "{shoes.uuid}", // Shoes: 8 %' in snippet
    assert f'{{event: "{shoes.uuid}", reference: "SKU-1"' in snippet
    assert f'{{event: "{socks.uuid}", reference: "SKU-2"' in snippet
    assert 'currency: "SEK"' in snippet


def test_the_lead_snippet_names_the_lead_event(program):
    # given
    newsletter = LeadEventFactory(program=program, name="Newsletter", fixed_amount=4000)

    # when
    snippet = program_snippets(program)["lead"]

    # then
    assert f"{PUBLIC_URL}/track/v2/retrack.js" in snippet
    assert f're("lead", {{\n    event: "{newsletter.uuid}"' in snippet


def test_the_pixel_snippet_points_to_the_pixel_with_the_events(program):
    # given
    shoes = EventFactory(program=program, name="Shoes")
    newsletter = LeadEventFactory(program=program, name="Newsletter")

    # when
    snippet = program_snippets(program)["noscript_pixel"]

    # then
    assert (
        f'<noscript><img src="{PUBLIC_URL}/track/v2/pixel?kind=transaction&amp;click=CLICK'
        f"&amp;event={shoes.uuid}&amp;orderNumber=ORDER_NUMBER" in snippet
    )
    assert f"?kind=lead&amp;click=CLICK&amp;event={newsletter.uuid}&amp;" in snippet
    assert snippet.count('alt="" referrerpolicy="origin"') == 2


def test_the_redirect_page_forwards_only_within_the_programs_domains(program):
    # when
    snippet = program_snippets(program)["redirect_page"]

    # then
    assert 'var ALLOWED_DOMAINS = ["awesome-store.example", "localhost:8001"];' in snippet
    assert 'var FALLBACK = "https://www.awesome-store.example/";' in snippet
    assert "retrack_click=" in snippet
    assert "max-age=864000; path=/; samesite=lax" in snippet
    assert "serve it at https://www.awesome-store.example/retrack" in snippet


def test_it_says_when_a_program_has_no_event_of_a_kind(program):
    # when
    snippets = program_snippets(program)

    # then
    assert (
        'event: "EVENT_UUID", // this program has no transaction event yet'
        in snippets["loader_transaction"]
    )
    assert 'event: "EVENT_UUID", // this program has no lead event yet' in snippets["lead"]


def test_it_keeps_names_and_urls_from_breaking_out_of_the_script(program):
    # given names and a landing URL that try to close the script
    program.name = "Evil</script><script>alert(1)//"
    program.landing_url = 'https://www.awesome-store.example/"</script>'
    program.allowed_domains = ['awesome-store.example"]; alert(1); //', "awesome-store.example"]
    program.save()
    EventFactory(program=program, name="Shoes\n</script><script>alert(2)")

    # when
    snippets = program_snippets(program)

    # then
    assert all("<script>alert" not in text for text in snippets.values())
    assert snippets["loader_transaction"].count("</script>") == 2
    redirect_page = snippets["redirect_page"]
    assert redirect_page.count("</script>") == 1
    assert 'var ALLOWED_DOMAINS = ["awesome-store.example"];' in redirect_page
    assert 'var FALLBACK = "https://www.awesome-store.example/\\"\\u003C/script\\u003E";' in (
        redirect_page
    )
    assert '<a href="https://www.awesome-store.example/&quot;&lt;/script&gt;">' in redirect_page


def test_the_transaction_snippet_names_its_example_lines_after_the_programs_events(program):
    EventFactory(program=program, name="Tents and gear", percent=Decimal("6.5"))
    EventFactory(program=program, name="</script><b>", percent=Decimal("5"))

    snippet = program_snippets(program)["loader_transaction"]

    assert 'name: "Tents and gear: example product 2", quantity: 2' in snippet
    assert 'name: "\\u003C/script\\u003E\\u003Cb\\u003E: example product 1", quantity: 1' in snippet
    assert "Running shoe" not in snippet and "</script><b>" not in snippet


def test_without_events_the_example_lines_say_so(program):
    snippet = program_snippets(program)["loader_transaction"]

    assert 'name: "Example product 1"' in snippet
    assert 'event: "EVENT_UUID"' in snippet
