import uuid

import pytest
from django.utils import timezone

from clicks.models import Click
from stores.models import ProgramStatus
from tests.clicks.helpers import CHROME, CLICK_PATH, assert_refused, link, open_link, query_of
from tests.factories import AdmissionFactory, PartnerFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def test_it_redirects_to_the_redirect_page_with_the_click_and_the_deeplink(
    client, partner, program
):
    deeplink = "https://www.awesome-store.example/skor/röda?size=42&color=red#reviews"

    response = open_link(client, link(partner, program, ref="38315327", deeplink=deeplink))

    click = Click.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (
        f"https://www.awesome-store.example/retrack?click={click.uuid}"
        "&deeplink=https%3A%2F%2Fwww.awesome-store.example%2Fskor%2Fr%C3%B6da"
        "%3Fsize%3D42%26color%3Dred%23reviews"
    )
    assert query_of(response["Location"]) == {"click": [str(click.uuid)], "deeplink": [deeplink]}


def test_it_sends_the_landing_url_as_the_deeplink_when_the_link_has_none(client, partner, program):
    response = open_link(client, link(partner, program, ref="38315327"))

    click = Click.objects.get()
    assert response["Location"] == (
        f"https://www.awesome-store.example/retrack?click={click.uuid}"
        "&deeplink=https%3A%2F%2Fwww.awesome-store.example%2F"
    )
    assert click.deeplink == "https://www.awesome-store.example/"


def test_it_redirects_straight_to_the_deeplink_keeping_its_query_and_fragment(
    client, partner, direct_program
):
    deeplink = "https://shop.direct-store.example/skor?color=red&size=42#reviews"

    response = open_link(client, link(partner, direct_program, deeplink=deeplink))

    click = Click.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (
        f"https://shop.direct-store.example/skor?color=red&size=42&click={click.uuid}#reviews"
    )
    assert click.deeplink == deeplink


def test_it_adds_the_click_to_the_landing_url_when_a_direct_link_has_no_deeplink(
    client, partner, direct_program
):
    response = open_link(client, link(partner, direct_program))

    click = Click.objects.get()
    assert response["Location"] == (
        f"https://www.direct-store.example/start?lang=sv&click={click.uuid}"
    )


def test_it_adds_a_query_to_a_deeplink_that_has_none(client, partner, direct_program):
    response = open_link(
        client, link(partner, direct_program, deeplink="https://direct-store.example")
    )

    click = Click.objects.get()
    assert response["Location"] == f"https://direct-store.example?click={click.uuid}"


def test_it_replaces_a_click_already_in_the_deeplink(client, partner, direct_program, program):
    stale = "https://www.direct-store.example/?click=0190d1f1-0000-7000-8000-000000000000&a=1"

    direct = open_link(client, link(partner, direct_program, deeplink=stale))
    stale_for_redirect_page = stale.replace("direct-store", "awesome-store")
    via_page = open_link(client, link(partner, program, deeplink=stale_for_redirect_page))

    direct_click, page_click = Click.objects.order_by("uuid")
    assert direct["Location"] == f"https://www.direct-store.example/?a=1&click={direct_click.uuid}"
    assert query_of(via_page["Location"])["deeplink"] == ["https://www.awesome-store.example/?a=1"]
    assert page_click.deeplink == "https://www.awesome-store.example/?a=1"


def test_it_stores_everything_the_request_tells_about_the_click(client, partner, program):
    before = timezone.now()

    open_link(
        client,
        link(
            partner,
            program,
            ref="38315327",
            ref2="campaign-7",
            ref3="ü-3",
            deeplink="https://www.awesome-store.example/skor",
        ),
        HTTP_REFERER="https://www.refunder.se/butiker/awesome-store",
        REMOTE_ADDR="203.0.113.9",
    )

    click = Click.objects.get()
    assert click.uuid.version == 7
    assert (click.partner, click.program) == (partner, program)
    assert (click.ref, click.ref2, click.ref3) == ("38315327", "campaign-7", "ü-3")
    assert click.deeplink == "https://www.awesome-store.example/skor"
    assert click.ip_address == "203.0.113.9"
    assert click.browser == CHROME
    assert click.referer == "https://www.refunder.se/butiker/awesome-store"
    assert click.country == ""
    assert click.is_bot is False
    assert click.is_anonymized is False
    assert before <= click.created_at <= timezone.now()


@pytest.mark.parametrize(
    "deeplink",
    [
        "https://evil.test/",
        "https://www.awesome-store.example.evil.test/",
        "https://evil.test/?www.awesome-store.example",
        "javascript:alert(1)//www.awesome-store.example/",
        "//www.awesome-store.example/",
        "https://user@www.awesome-store.example/",
        "https://www.awesome-store.example\\@evil.test/",
        "https://www.awesome-store.example:8443/",
        "https://www.awesome-store.example/\r\nSet-Cookie: a=b",
    ],
)
def test_it_sends_an_unacceptable_deeplink_to_the_landing_url(
    client, partner, program, direct_program, deeplink
):
    via_page = open_link(client, link(partner, program, deeplink=deeplink))
    direct = open_link(client, link(partner, direct_program, deeplink=deeplink))

    page_click, direct_click = Click.objects.order_by("uuid")
    assert query_of(via_page["Location"])["deeplink"] == ["https://www.awesome-store.example/"]
    assert page_click.deeplink == "https://www.awesome-store.example/"
    assert direct["Location"] == (
        f"https://www.direct-store.example/start?lang=sv&click={direct_click.uuid}"
    )


def test_it_sends_a_deeplink_given_twice_to_the_landing_url(client, partner, direct_program):
    url = link(partner, direct_program) + (
        "&deeplink=https%3A%2F%2Fa.direct-store.example%2F"
        "&deeplink=https%3A%2F%2Fb.direct-store.example%2F"
    )

    response = open_link(client, url)

    click = Click.objects.get()
    assert response["Location"] == (
        f"https://www.direct-store.example/start?lang=sv&click={click.uuid}"
    )


def test_it_sends_a_non_ascii_host_in_its_ascii_form(client, partner):
    program = ProgramFactory(
        landing_url="https://www.xn--bcher-kva.example/",
        allowed_domains=["bücher.example"],
        redirect_page_url="",
    )
    AdmissionFactory(partner=partner, program=program)

    response = open_link(client, link(partner, program, deeplink="https://Shop.Bücher.example/ä"))

    click = Click.objects.get()
    assert response["Location"] == f"https://shop.xn--bcher-kva.example/%C3%A4?click={click.uuid}"


@pytest.mark.parametrize("method", ["get", "head"])
def test_it_answers_no_store_on_a_redirect(client, partner, program, method):
    response = getattr(client, method)(link(partner, program), HTTP_USER_AGENT=CHROME)

    assert response.status_code == 302
    assert response["Cache-Control"] == "no-store"


def test_it_redirects_a_head_request_and_flags_it(client, partner, program):
    response = client.head(link(partner, program), HTTP_USER_AGENT=CHROME)

    click = Click.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith(
        f"https://www.awesome-store.example/retrack?click={click.uuid}"
    )
    assert click.is_bot is True


@pytest.mark.parametrize(
    "user_agent",
    [
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Twitterbot/1.0",
        "WhatsApp/2.23.20.0 A",
        "TelegramBot (like TwitterBot)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (X11; Linux x86_64; Storebot-Google/1.0) AppleWebKit/537.36"
        " (KHTML, like Gecko) Chrome/79.0.3945.88 Safari/537.36",
        "",
    ],
)
def test_it_redirects_a_link_preview_or_crawler_and_flags_it(client, partner, program, user_agent):
    response = client.get(link(partner, program), HTTP_USER_AGENT=user_agent)

    assert response.status_code == 302
    assert Click.objects.get().is_bot is True


def test_it_does_not_flag_a_browser_whose_maker_has_bot_in_its_name(client, partner, program):
    cubot = "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 Chrome/120.0 Mobile"

    client.get(link(partner, program), HTTP_USER_AGENT=cubot)

    assert Click.objects.get().is_bot is False


def test_it_counts_a_shopper_in_pinterests_app(client, partner, program):
    pinterest_app = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]"
    )

    response = client.get(link(partner, program), HTTP_USER_AGENT=pinterest_app)

    assert response.status_code == 302
    assert Click.objects.get().is_bot is False


def test_it_cuts_an_overlong_user_agent_and_removes_control_characters(client, partner, program):
    client.get(link(partner, program), HTTP_USER_AGENT="Mozilla/5.0\x00\x07 " + "x" * 1000)

    assert Click.objects.get().browser == "Mozilla/5.0 " + "x" * 500


def test_it_reads_a_utf8_referer(client, partner, program):
    referer = "https://www.refunder.se/butiker/åäö".encode().decode("latin-1")

    open_link(client, link(partner, program), HTTP_REFERER=referer)

    assert Click.objects.get().referer == "https://www.refunder.se/butiker/åäö"


def test_it_takes_the_address_from_remote_addr_without_trusted_proxies(
    client, partner, program, settings
):
    settings.RETRACK_TRUSTED_PROXIES = 0

    open_link(
        client, link(partner, program), REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4"
    )

    assert Click.objects.get().ip_address == "198.51.100.7"


def test_it_takes_the_address_through_the_trusted_proxies(client, partner, program, settings):
    settings.RETRACK_TRUSTED_PROXIES = 2

    open_link(
        client,
        link(partner, program),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.50, 10.0.0.1",
    )

    assert Click.objects.get().ip_address == "203.0.113.50"


def test_it_takes_the_country_from_the_trusted_header(client, partner, program, settings):
    settings.RETRACK_COUNTRY_HEADER = "CF-IPCountry"

    open_link(client, link(partner, program), HTTP_CF_IPCOUNTRY="se")

    assert Click.objects.get().country == "SE"


@pytest.mark.parametrize("value", ["T1", "XX", "SWE", "S", "1A", "", "s\x00"])
def test_it_ignores_a_country_header_that_is_not_a_country(
    client, partner, program, settings, value
):
    settings.RETRACK_COUNTRY_HEADER = "CF-IPCountry"

    open_link(client, link(partner, program), HTTP_CF_IPCOUNTRY=value)

    assert Click.objects.get().country == ""


def test_it_ignores_a_country_header_that_is_not_configured(client, partner, program, settings):
    settings.RETRACK_COUNTRY_HEADER = ""

    open_link(client, link(partner, program), HTTP_CF_IPCOUNTRY="SE")

    assert Click.objects.get().country == ""


def test_it_stores_a_ref_of_255_characters_exactly(client, partner, program):
    ref = "é" * 255

    response = open_link(client, link(partner, program, ref=ref))

    assert response.status_code == 302
    assert Click.objects.get().ref == ref


@pytest.mark.parametrize(
    ("method", "query", "status"),
    [("GET", "publisher=x", 404), ("GET", "ref=" + "7" * 256, 400), ("POST", "", 405)],
)
def test_its_pages_cannot_be_framed_and_run_no_script(
    client, partner, program, method, query, status
):
    url = link(partner, program) + "&" + query

    response = client.generic(method, url, HTTP_USER_AGENT=CHROME)

    assert response.status_code == status
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    assert Click.objects.count() == 0


@pytest.mark.parametrize("name", ["ref", "ref2", "ref3"])
def test_it_refuses_a_ref_over_255_characters(client, partner, program, name):
    response = open_link(client, link(partner, program, **{name: "7" * 256}))

    assert_refused(response, 400, f"“{name}” is longer than 255 characters")


def test_it_refuses_a_ref_given_twice(client, partner, program):
    response = open_link(client, link(partner, program) + "&ref=1&ref=2")

    assert_refused(response, 400, "gives “ref” more than once")


@pytest.mark.parametrize("raw_ref", ["a%00b", "a%0Ab", "a%7Fb", "a%FFb", "%C3%28"])
def test_it_refuses_a_ref_with_control_characters_or_bytes_that_are_not_utf8(
    client, partner, program, raw_ref
):
    response = open_link(client, link(partner, program) + f"&ref={raw_ref}")

    assert_refused(response, 400, "“ref” holds characters it cannot")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "program={program}",
        "publisher={partner}",
        "publisher=&program={program}",
        "publisher=not-a-uuid&program={program}",
        "publisher={{{partner}}}&program={program}",
        "publisher={partner}%00&program={program}",
        "publisher={partner}&publisher={partner}&program={program}",
        "publisher={partner}&program={program}x",
        "publisher={partner}&program=%FF%FE",
    ],
)
def test_it_refuses_a_malformed_link_with_a_404_page(client, partner, program, query):
    url = f"{CLICK_PATH}?" + query.format(partner=partner.uuid, program=program.uuid)

    response = open_link(client, url)

    assert_refused(response, 404, "Link not found")


def test_it_refuses_an_unknown_program(client, partner, program):
    response = open_link(client, f"{CLICK_PATH}?publisher={partner.uuid}&program={uuid.uuid4()}")

    assert_refused(response, 404, "does not lead to a store")


def test_it_refuses_an_unknown_partner(client, program):
    response = open_link(client, f"{CLICK_PATH}?publisher={uuid.uuid4()}&program={program.uuid}")

    assert_refused(response, 404, "does not lead to a store")


def test_it_refuses_a_partner_not_admitted_to_the_program(client, program):
    stranger = PartnerFactory(name="Stranger NO")

    response = open_link(client, link(stranger, program))

    assert_refused(response, 404, "does not lead to a store")


@pytest.mark.parametrize("status", [ProgramStatus.PAUSED, ProgramStatus.CLOSED])
def test_it_refuses_a_paused_or_closed_program_with_a_link_to_the_store(
    client, partner, program, status
):
    program.status = status
    program.save()

    response = open_link(client, link(partner, program, ref="1"))

    assert_refused(response, 410, "Awesome Store SE: offer ended")
    assert '<a href="https://www.awesome-store.example/">Go to the store</a>' in (
        response.content.decode()
    )


@pytest.mark.parametrize("method", ["post", "put", "delete", "options"])
def test_it_refuses_other_methods(client, partner, program, method):
    response = getattr(client, method)(link(partner, program))

    assert_refused(response, 405, "Not a tracking link request")
    assert response["Allow"] == "GET, HEAD"


def test_it_refuses_a_link_with_too_many_parameters(client, partner, program):
    url = link(partner, program) + "".join(f"&p{number}=1" for number in range(1001))

    response = open_link(client, url)

    assert_refused(response, 400, "not a tracking link")


@pytest.mark.parametrize(
    "extra",
    [
        "&ref=%00%00%00",
        "&deeplink=%00",
        "&deeplink=https%3A%2F%2Fwww.awesome-store.example%2F%00",
        "&deeplink=%FF%FE%FD",
        "&deeplink=%E2%80%AEhttps://www.awesome-store.example/",
        "&deeplink=https://%5B::1%5D/",
        "&deeplink=https://www.awesome-store.example:99999/",
        "&deeplink=https://www.awesome-store.example:-1/",
        "&deeplink=http://[",
        "&deeplink=https://xn--zz.awesome-store.example/",
        "&deeplink=" + "https%3A%2F%2Fwww.awesome-store.example%2F" + "a" * 100_000,
        "&ref=" + "x" * 1_000_000,
        "&ref2=%",
        "&ref3=%%%%",
        "&%00=%00",
        "&=&&&=",
        "&deeplink=&deeplink=&deeplink=",
        "&publisher=",
        "&ref=a&ref2=b&ref3=c" * 50,
        "&ref=%ED%A0%80",
        "&deeplink=https://www.awesome-store.example/%ED%A0%80",
        "&deeplink=https://" + "a." * 200 + "awesome-store.example/",
    ],
)
def test_it_never_fails_on_hostile_input(client, partner, program, extra):
    response = open_link(client, link(partner, program) + extra)

    assert response.status_code in {302, 400, 404}
    assert response["Cache-Control"] == "no-store"
    assert Click.objects.count() == (1 if response.status_code == 302 else 0)


def test_it_never_fails_on_hostile_headers(client, partner, program, settings):
    settings.RETRACK_TRUSTED_PROXIES = 1
    settings.RETRACK_COUNTRY_HEADER = "CF-IPCountry"

    response = client.get(
        link(partner, program),
        HTTP_USER_AGENT="\x00" * 10_000,
        HTTP_REFERER="\xff\xfe" * 10_000,
        HTTP_X_FORWARDED_FOR="not-an-ip, , ,,%00",
        HTTP_CF_IPCOUNTRY="\x00\x00",
        REMOTE_ADDR="",
    )

    click = Click.objects.get()
    assert response.status_code == 302
    assert (click.browser, click.ip_address, click.country, click.is_bot) == ("", None, "", True)
    assert len(click.referer) == 2048


def test_it_makes_one_lookup_and_one_insert_with_a_cold_cache(
    client, partner, program, django_assert_num_queries
):
    with django_assert_num_queries(2) as captured:
        response = open_link(client, link(partner, program))

    assert response.status_code == 302
    assert captured.captured_queries[0]["sql"].startswith("SELECT")
    assert captured.captured_queries[1]["sql"].startswith('INSERT INTO "clicks_click"')


def test_it_makes_only_the_insert_with_a_warm_cache(
    client, partner, program, django_assert_num_queries
):
    open_link(client, link(partner, program))

    with django_assert_num_queries(1) as captured:
        response = open_link(client, link(partner, program, ref="2"))

    assert response.status_code == 302
    assert captured.captured_queries[0]["sql"].startswith('INSERT INTO "clicks_click"')
    assert Click.objects.count() == 2


def test_it_remembers_an_unknown_link_without_a_second_query(
    client, partner, django_assert_num_queries
):
    url = f"{CLICK_PATH}?publisher={partner.uuid}&program={uuid.uuid4()}"
    open_link(client, url)

    with django_assert_num_queries(0):
        response = open_link(client, url)

    assert response.status_code == 404


def test_it_sees_a_paused_program_once_the_cache_has_expired(client, partner, program, settings):
    settings.RETRACK_PROGRAM_CACHE_SECONDS = 0
    open_link(client, link(partner, program))
    program.status = ProgramStatus.PAUSED
    program.save()

    response = open_link(client, link(partner, program))

    assert response.status_code == 410
    assert Click.objects.count() == 1
