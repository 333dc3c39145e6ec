import copy
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from partners.models import Admission, Partner, PartnerToken
from retrack.lib.tokens import hash_token
from stores.models import Event, Program, Store, StoreToken

pytestmark = pytest.mark.django_db

DOCUMENT = {
    "partners": [{"name": "Refunder SE"}],
    "stores": [
        {
            "name": "Awesome Store",
            "programs": [
                {
                    "name": "Awesome Store SE",
                    "currency": "SEK",
                    "landing_url": "https://www.awesome-store.example/",
                    "allowed_domains": ["awesome-store.example"],
                    "redirect_page_url": "https://www.awesome-store.example/retrack",
                    "attribution_days": 30,
                    "validation_days": 45,
                    "partners": ["Refunder SE"],
                    "events": [
                        {"name": "Shoes", "kind": "transaction", "percent": "8.0"},
                        {"name": "Newsletter", "kind": "lead", "fixed": 4000},
                    ],
                }
            ],
        }
    ],
}


def run_onboard(tmp_path, document, *extra):
    path = tmp_path / "onboard.json"
    path.write_text(json.dumps(document))
    from io import StringIO

    out = StringIO()
    call_command("onboard", str(path), *extra, stdout=out)
    return json.loads(out.getvalue())


def counts():
    return (
        Store.objects.count(),
        Program.objects.count(),
        Event.objects.count(),
        Partner.objects.count(),
        Admission.objects.count(),
    )


def test_it_creates_everything_in_the_document(tmp_path):
    result = run_onboard(tmp_path, DOCUMENT)

    program = Program.objects.get(name="Awesome Store SE")
    assert program.store.name == "Awesome Store"
    assert program.currency == "SEK"
    assert program.allowed_domains == ["awesome-store.example"]
    assert program.redirect_page_url == "https://www.awesome-store.example/retrack"
    assert program.attribution_days == 30
    assert program.validation_days == 45
    shoes = Event.objects.get(program=program, name="Shoes")
    assert (shoes.kind, shoes.percent, shoes.fixed_amount) == ("transaction", Decimal("8"), None)
    newsletter = Event.objects.get(program=program, name="Newsletter")
    assert (newsletter.kind, newsletter.percent, newsletter.fixed_amount) == ("lead", None, 4000)
    partner = Partner.objects.get(name="Refunder SE")
    assert Admission.objects.filter(partner=partner, program=program).count() == 1
    assert result["partners"] == [{"name": "Refunder SE", "uuid": str(partner.uuid)}]
    program_result = result["stores"][0]["programs"][0]
    assert result["stores"][0]["uuid"] == str(program.store.uuid)
    assert program_result["uuid"] == str(program.uuid)
    assert program_result["events"] == [
        {"name": "Shoes", "uuid": str(shoes.uuid), "kind": "transaction", "percent": "8"},
        {"name": "Newsletter", "uuid": str(newsletter.uuid), "kind": "lead", "fixed": 4000},
    ]
    assert "token" not in result["stores"][0]


def test_it_updates_objects_matched_by_name(tmp_path):
    first = run_onboard(tmp_path, DOCUMENT)
    changed = copy.deepcopy(DOCUMENT)
    program_document = changed["stores"][0]["programs"][0]
    program_document["attribution_days"] = 10
    program_document["redirect_page_url"] = None
    program_document["events"][0]["percent"] = "10.5"

    second = run_onboard(tmp_path, changed)

    assert counts() == (1, 1, 2, 1, 1)
    program = Program.objects.get()
    assert program.attribution_days == 10
    assert program.redirect_page_url == ""
    assert Event.objects.get(name="Shoes").percent == Decimal("10.5")
    assert second["stores"][0]["programs"][0]["uuid"] == first["stores"][0]["programs"][0]["uuid"]


def test_it_issues_tokens_on_request(tmp_path):
    result = run_onboard(tmp_path, DOCUMENT, "--issue-tokens")

    store_secret = result["stores"][0]["token"]
    partner_secret = result["partners"][0]["token"]
    assert StoreToken.objects.get(key_hash=hash_token(store_secret)).store.name == "Awesome Store"
    assert PartnerToken.objects.get(key_hash=hash_token(partner_secret)).partner.name == (
        "Refunder SE"
    )


def bad_document():
    document = copy.deepcopy(DOCUMENT)
    program = document["stores"][0]["programs"][0]
    program["currency"] = "kronor"
    program["landing_url"] = "https://evil.example/"
    program["redirect_page_url"] = "javascript:alert(1)"
    program["partners"] = ["Nobody"]
    program["events"][0]["percent"] = "120"
    program["events"][1]["fixed"] = -5
    program["surprise"] = True
    return document


def test_it_refuses_a_bad_document_naming_every_problem_and_writing_nothing(tmp_path):
    with pytest.raises(CommandError) as refusal:
        run_onboard(tmp_path, bad_document())

    message = str(refusal.value)
    path = "stores[0].programs[0]"
    for expected in [
        f"{path}.currency: Enter a three-letter ISO-4217 code, such as SEK.",
        f"{path}.landing_url: The landing URL must be an http(s) URL on one of the allowed "
        "domains (awesome-store.example).",
        f"{path}.redirect_page_url: The redirect page must be an http(s) URL on one of the "
        "allowed domains (awesome-store.example).",
        f"{path}.partners[0]: names no known partner: 'Nobody'",
        f"{path}.events[0].percent: A percentage must be from 0 to 100, with at most 3 decimals.",
        f"{path}.events[1].fixed: A fixed amount cannot be negative (minor units: 4000 means "
        "40.00).",
        f"{path}.surprise: is not a known field",
    ]:
        assert expected in message
    assert counts() == (0, 0, 0, 0, 0)


def test_a_refused_document_leaves_earlier_onboarding_untouched(tmp_path):
    run_onboard(tmp_path, DOCUMENT)
    before = list(Program.objects.values())

    with pytest.raises(CommandError):
        run_onboard(tmp_path, bad_document())

    assert list(Program.objects.values()) == before
    assert counts() == (1, 1, 2, 1, 1)


def test_it_refuses_an_event_with_both_percent_and_fixed(tmp_path):
    document = copy.deepcopy(DOCUMENT)
    document["stores"][0]["programs"][0]["events"][0]["fixed"] = 100

    with pytest.raises(
        CommandError,
        match=r"events\[0\]\.fixed: Give either a percentage or a fixed amount, not both\.",
    ):
        run_onboard(tmp_path, document)
    assert counts() == (0, 0, 0, 0, 0)


def test_it_refuses_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "onboard.json"
    path.write_text("{not json")

    with pytest.raises(CommandError, match="is not valid JSON"):
        call_command("onboard", str(path))
    assert counts() == (0, 0, 0, 0, 0)


def test_it_refuses_a_document_that_is_not_an_object(tmp_path):
    with pytest.raises(CommandError, match="document: must be an object"):
        run_onboard(tmp_path, [1, 2])


def test_it_refuses_a_fixed_amount_past_the_largest_amount(tmp_path):
    document = copy.deepcopy(DOCUMENT)
    document["stores"][0]["programs"][0]["events"][1]["fixed"] = 2**63

    with pytest.raises(
        CommandError,
        match=r"events\[1\]\.fixed: A fixed amount must be at most 9223372036854775807",
    ):
        run_onboard(tmp_path, document)
    assert counts() == (0, 0, 0, 0, 0)


def test_it_refuses_bidi_control_characters_in_names(tmp_path):
    document = copy.deepcopy(DOCUMENT)
    document["stores"][0]["name"] = "Awesome \u202eStore"
    document["partners"][0]["name"] = "Refunder \u2066SE"

    with pytest.raises(CommandError) as refusal:
        run_onboard(tmp_path, document)

    message = str(refusal.value)
    bidi = "must not contain bidirectional control characters (U+202A-202E, U+2066-2069)"
    assert f"stores[0].name: {bidi}" in message
    assert f"partners[0].name: {bidi}" in message
    assert counts() == (0, 0, 0, 0, 0)


def test_it_says_what_the_back_office_says(tmp_path):
    # given the same unusable currency through both doors
    document = copy.deepcopy(DOCUMENT)
    document["stores"][0]["programs"][0]["currency"] = "SE1"
    program = Program(currency="SE1", allowed_domains=["awesome-store.example"])

    with pytest.raises(CommandError) as refusal:
        run_onboard(tmp_path, document)
    with pytest.raises(ValidationError) as model_refusal:
        program.clean()

    (message,) = model_refusal.value.message_dict["currency"]
    assert f"stores[0].programs[0].currency: {message}" in str(refusal.value)
