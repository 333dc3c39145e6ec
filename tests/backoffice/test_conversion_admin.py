import html
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import formats, timezone

from conversions.models import ConversionSource, ConversionStatus
from conversions.services import (
    amend_transaction,
    record_conversion,
    reject_conversion,
)
from stores.models import EventKind
from tests.backoffice.helpers import listed
from tests.clicks.helpers import uuid7_at
from tests.factories import (
    ClickFactory,
    ConversionFactory,
    LeadEventFactory,
    PartnerFactory,
    ProgramFactory,
)
from tests.shop import transaction_payload

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/conversions/conversion/"


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def recorded_transaction(shop):
    """The worked example reported through the store API's service, then rejected by the store."""
    conversion = record_conversion(
        EventKind.TRANSACTION,
        transaction_payload(shop),
        source=ConversionSource.API,
        store=shop.store,
    ).conversion
    reject_conversion(conversion, actor="store:Awesome Store", reason="Order cancelled")
    return conversion


def test_the_list_shows_key_kind_status_program_partner_sums_commission_and_age(
    support_client,
):
    # given
    program = ProgramFactory(name="Awesome Store SE")
    click = ClickFactory(program=program, partner=PartnerFactory(name="Refunder SE"), ref="r-1")
    conversion = ConversionFactory(
        click=click,
        order_number="692549563",
        order_sum=162500,
        vat_sum=32500,
        commission=10400,
        source=ConversionSource.SCRIPT,
        created_at=timezone.now() - timedelta(days=3, hours=2),
    )

    # when
    response = support_client.get(LIST_URL)

    # then
    page = page_text(response)
    for column, cell in [
        (
            "key_and_kind",
            '<a href="/admin/conversions/conversion/{pk}/change/">692549563'
            '<div class="list-note">Transaction</div></a>',
        ),
        ("status", "Pending"),
        ("program_and_partner", 'Awesome Store SE<div class="list-note">Refunder SE</div>'),
        ("order_sum_display", "1\xa0625.00\xa0SEK"),
        ("commission_display", "104.00\xa0SEK"),
        ("age", "3\xa0days"),  # timesince() keeps number and unit together
        ("click_ref", "r-1"),
    ]:
        tag = "th" if column == "key_and_kind" else "td"
        cell = cell.format(pk=conversion.pk)
        assert f'<{tag} class="field-{column}">{cell}</{tag}>' in page, column


@pytest.mark.parametrize(
    ("_case", "term"),
    [
        ("order number", "692549563"),
        ("lead reference", "member-1001"),
        ("conversion uuid", "conversion.uuid"),
        ("click uuid", "click.uuid"),
        ("click ref", "rf-38315327"),
    ],
)
def test_it_finds_conversions_by_a_key(support_client, _case, term):
    # given
    program = ProgramFactory()
    click = ClickFactory(program=program, ref="rf-38315327")
    transaction = ConversionFactory(click=click, order_number="692549563")
    lead = ConversionFactory(
        click=click,
        kind=EventKind.LEAD,
        order_number=None,
        reference="member-1001",
        event=LeadEventFactory(program=program),
    )
    other = ConversionFactory(order_number="792549563", click=ClickFactory(ref="rf-48315327"))
    terms = {"conversion.uuid": str(transaction.uuid), "click.uuid": str(click.uuid)}
    expected = {
        "order number": {transaction},
        "lead reference": {lead},
        "conversion uuid": {transaction},
        "click uuid": {transaction, lead},
        "click ref": {transaction, lead},
    }[_case]

    # when
    found = listed(support_client.get(LIST_URL, {"q": terms.get(term, term)}))

    # then
    assert set(found) == expected
    assert other not in found


def test_it_finds_conversions_by_the_beginning_of_a_key(support_client):
    order = ConversionFactory(order_number="692549563", click=ClickFactory(ref="rf-38315327"))
    longer = ConversionFactory(order_number="692549563-2")
    lead = ConversionFactory(
        kind=EventKind.LEAD, order_number=None, reference="member-1001", click=order.click
    )

    assert set(listed(support_client.get(LIST_URL, {"q": "6925495"}))) == {order, longer}
    assert set(listed(support_client.get(LIST_URL, {"q": "member-"}))) == {lead}
    assert set(listed(support_client.get(LIST_URL, {"q": "rf-3831"}))) == {order, lead}


def test_it_does_not_match_the_middle_of_a_key_or_another_case(support_client):
    conversion = ConversionFactory(
        order_number="ab-692549563", click=ClickFactory(ref="rf-38315327")
    )

    for term in ["69254956", "38315327", str(conversion.uuid)[:8]]:
        assert listed(support_client.get(LIST_URL, {"q": term})) == [], term
    if connection.vendor == "postgresql":  # SQLite's LIKE ignores the case of ASCII
        for term in ["AB-6925", "RF-38315327"]:
            assert listed(support_client.get(LIST_URL, {"q": term})) == [], term


def test_it_filters_by_status_kind_program_partner_source_and_day(support_client):
    # given
    program = ProgramFactory()
    partner = PartnerFactory()
    moment = datetime(2025, 3, 10, 12, tzinfo=UTC)
    click = ClickFactory(program=program, partner=partner)

    def conversion(**fields):
        fields.setdefault("created_at", moment)
        return ConversionFactory(click=click, uuid=uuid7_at(fields["created_at"]), **fields)

    wanted = conversion(source=ConversionSource.SCRIPT)
    conversion(source=ConversionSource.API)
    conversion(source=ConversionSource.SCRIPT, status=ConversionStatus.APPROVED)
    conversion(source=ConversionSource.SCRIPT, created_at=moment + timedelta(days=1))
    ConversionFactory(source=ConversionSource.SCRIPT, created_at=moment)

    # when
    found = listed(
        support_client.get(
            LIST_URL,
            {
                "status__exact": "pending",
                "kind__exact": "transaction",
                "program__id__exact": program.pk,
                "partner__id__exact": partner.pk,
                "source__exact": "script",
                "created_from": "2025-03-10",
                "created_to": "2025-03-10",
            },
        )
    )

    # then
    assert found == [wanted]


def test_the_detail_shows_lines_commission_click_and_history(support_client, shop):
    # given
    conversion = recorded_transaction(shop)

    # when
    response = support_client.get(f"/admin/conversions/conversion/{conversion.pk}/change/")

    # then
    page = page_text(response)
    assert response.status_code == 200
    # product lines
    assert "Running shoe" in page and "SKU-SOCK" in page
    # how the commission was computed: 8 % of 10.00 net, 12.5 % of 3 × 1.00 net
    assert (
        "<td>line 1</td><td>Shoes</td><td>percent of net</td><td>10.00\xa0SEK net</td>"
        "<td>8\xa0%</td><td>0.80\xa0SEK</td>" in page
    )
    assert (
        "<td>line 2</td><td>Socks</td><td>percent of net</td><td>3.00\xa0SEK net</td>"
        "<td>12.5\xa0%</td><td>0.38\xa0SEK</td>" in page
    )
    # the click
    assert f'<a href="/admin/clicks/click/{conversion.click_id}/change/">' in page
    assert "r-77" in page
    # the history, oldest first, with who and why
    history = page[page.index('id="changes-heading"') :]
    created, rejected = history.index("<p>Created</p>"), history.index("<p>Rejected</p>")
    assert created < rejected
    assert history.count("<p>store:Awesome Store</p>") == 2
    assert "<p>Order cancelled</p>" in history[rejected:]
    assert "<code>status</code>: pending → rejected" in history[rejected:]


def test_the_detail_offers_approve_and_reject_only_to_an_operator_and_only_while_pending(
    operator_client, support_client
):
    pending = ConversionFactory()
    approved = ConversionFactory(status=ConversionStatus.APPROVED)

    def buttons(client, conversion) -> bool:
        page = client.get(f"/admin/conversions/conversion/{conversion.pk}/change/")
        return 'value="approve_conversions"' in page.content.decode()

    assert buttons(operator_client, pending) is True
    assert buttons(operator_client, approved) is False
    assert buttons(support_client, pending) is False


def test_a_lead_is_found_and_shown_with_its_reference(support_client):
    program = ProgramFactory()
    newsletter = LeadEventFactory(program=program, name="Newsletter", fixed_amount=4000)
    click = ClickFactory(program=program)
    lead = record_conversion(
        EventKind.LEAD,
        {"event": str(newsletter.uuid), "click": str(click.uuid), "reference": "member-1001"},
        source=ConversionSource.API,
        store=program.store,
    ).conversion

    response = support_client.get(f"/admin/conversions/conversion/{lead.pk}/change/")

    page = page_text(response)
    assert "member-1001" in page
    assert "<td>order</td><td>Newsletter</td><td>fixed per conversion</td>" in page
    assert "<td>once</td><td>40.00\xa0SEK</td><td>40.00\xa0SEK</td>" in page


def test_the_history_shows_what_an_amendment_changed(support_client, shop):
    # given: the store takes back the three socks
    conversion = record_conversion(
        EventKind.TRANSACTION,
        transaction_payload(shop),
        source=ConversionSource.API,
        store=shop.store,
    ).conversion
    shoe_line = transaction_payload(shop)["products"][:1]
    amend_transaction(
        conversion,
        {"orderSum": 1250, "vatSum": 250, "products": shoe_line},
        actor="store:Awesome Store",
    )

    # when
    response = support_client.get(f"/admin/conversions/conversion/{conversion.pk}/change/")

    # then
    history = page_text(response)
    history = history[history.index('id="changes-heading"') :]
    assert "<p>Amended</p>" in history
    assert "<div><code>order_sum</code>: 1625 → 1250</div>" in history
    assert "<div><code>vat_sum</code>: 325 → 250</div>" in history
    assert (
        "<div><code>products</code>: 1 × Running shoe at 1250; 3 × Sock at 125 → "
        "1 × Running shoe at 1250</div>" in history
    )


def test_the_detail_shows_when_a_pending_conversion_is_approved_automatically(support_client):
    created = timezone.now() - timedelta(days=5)
    conversion = ConversionFactory(created_at=created, click__program__validation_days=45)
    decided = ConversionFactory(status=ConversionStatus.APPROVED)

    page = page_text(support_client.get(f"/admin/conversions/conversion/{conversion.pk}/change/"))
    decided_page = page_text(
        support_client.get(f"/admin/conversions/conversion/{decided.pk}/change/")
    )

    due = formats.localize(timezone.template_localtime(created + timedelta(days=45)))
    assert "Auto-approval:</label>" in page
    assert f"{due} (in 1\u00a0month), unless decided before" in page
    assert "— (decided)" in decided_page


def test_the_detail_warns_when_the_click_was_flagged_as_a_bot(support_client):
    from_bot = ConversionFactory(click=ClickFactory(is_bot=True))
    human = ConversionFactory()

    page = page_text(support_client.get(f"/admin/conversions/conversion/{from_bot.pk}/change/"))
    human_page = page_text(support_client.get(f"/admin/conversions/conversion/{human.pk}/change/"))

    assert "This conversion's click was flagged as a bot" in page
    assert "Flagged as a bot:" in human_page  # the field's label only
    assert "This conversion's click was flagged as a bot" not in human_page
