import pytest
from django.db import transaction

from conversions.models import ConversionChange, ConversionStatus
from conversions.services import record_change
from tests.factories import ClickFactory, ConversionFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/conversions/conversion/"


def pending_conversion(**fields):
    """A pending conversion with its 'created' history entry, as the services leave it."""
    conversion = ConversionFactory(**fields)
    with transaction.atomic():
        record_change(conversion, action="created", actor="store:Demo")
    return conversion


def statuses(*conversions) -> list[str]:
    for conversion in conversions:
        conversion.refresh_from_db()
    return [conversion.status for conversion in conversions]


def history(conversion) -> list[tuple[str, str, str]]:
    return list(
        ConversionChange.objects.filter(conversion=conversion).values_list(
            "action", "actor", "reason"
        )
    )


def test_an_operator_approves_the_selected_conversions(operator_client):
    # given
    first, second = pending_conversion(), pending_conversion()
    rejected = pending_conversion(status=ConversionStatus.REJECTED)

    # when
    response = operator_client.post(
        LIST_URL,
        {
            "action": "approve_conversions",
            "index": "0",
            "_selected_action": [first.pk, second.pk, rejected.pk],
            "apply": "Approve",
        },
        follow=True,
    )

    # then
    assert (
        "Approved 2 conversion(s). 1 not pending (already approved or rejected): left as they "
        "were." in response.content.decode()
    )
    assert statuses(first, second, rejected) == ["approved", "approved", "rejected"]
    assert history(first) == [
        ("created", "store:Demo", ""),
        ("approved", "operator:olivia", ""),
    ]
    assert history(rejected) == [("created", "store:Demo", "")]


def test_approving_asks_for_confirmation_first_and_changes_nothing_until_then(operator_client):
    conversion = pending_conversion(order_number="692549563")

    response = operator_client.post(
        LIST_URL,
        {"action": "approve_conversions", "index": "0", "_selected_action": [conversion.pk]},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Approve 1 selected conversion? Approval is final" in page
    assert "Transaction 692549563" in page
    assert '<input type="hidden" name="action" value="approve_conversions">' in page
    assert '<input type="submit" name="apply" class="default" value="Approve">' in page
    assert "flagged as a bot" not in page
    assert statuses(conversion) == ["pending"]
    assert history(conversion) == [("created", "store:Demo", "")]


def test_the_confirmation_warns_of_conversions_from_bot_clicks(operator_client):
    human = pending_conversion()
    from_bot = pending_conversion(click=ClickFactory(is_bot=True), order_number="bot-1")

    response = operator_client.post(
        LIST_URL,
        {"action": "approve_conversions", "_selected_action": [human.pk, from_bot.pk]},
    )

    page = response.content.decode()
    assert "1 of them came from click flagged as a bot" in page
    assert "Transaction bot-1 · " in page and "click flagged as a bot</strong>" in page
    assert statuses(human, from_bot) == ["pending", "pending"]


def test_rejecting_asks_for_a_reason_first_and_changes_nothing_until_then(operator_client):
    # given
    conversion = pending_conversion(order_number="692549563")

    # when
    response = operator_client.post(
        LIST_URL,
        {"action": "reject_conversions", "index": "0", "_selected_action": [conversion.pk]},
    )

    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "Reject 1 selected conversion." in page
    assert "Transaction 692549563" in page
    assert f'<input type="hidden" name="_selected_action" value="{conversion.pk}">' in page
    assert statuses(conversion) == ["pending"]
    assert history(conversion) == [("created", "store:Demo", "")]


def test_it_refuses_to_reject_without_a_reason(operator_client):
    conversion = pending_conversion()

    response = operator_client.post(
        LIST_URL,
        {
            "action": "reject_conversions",
            "_selected_action": [conversion.pk],
            "reason": "   ",
            "apply": "Reject",
        },
    )

    assert response.status_code == 200
    assert "Give the reason for the rejection." in response.content.decode()
    assert statuses(conversion) == ["pending"]
    assert history(conversion) == [("created", "store:Demo", "")]


def test_an_operator_rejects_with_a_reason_recorded_in_the_history(operator_client):
    # given
    pending = pending_conversion()
    approved = pending_conversion(status=ConversionStatus.APPROVED)

    # when
    response = operator_client.post(
        LIST_URL,
        {
            "action": "reject_conversions",
            "_selected_action": [pending.pk, approved.pk],
            "reason": " Order returned in full ",
            "apply": "Reject",
        },
        follow=True,
    )

    # then
    assert (
        "Rejected 1 conversion(s). 1 not pending (already approved or rejected): left as they "
        "were." in response.content.decode()
    )
    assert statuses(pending, approved) == ["rejected", "approved"]
    pending.refresh_from_db()
    assert pending.status_reason == "Order returned in full"
    assert history(pending)[-1] == ("rejected", "operator:olivia", "Order returned in full")


def test_a_decision_from_the_conversion_page_returns_to_it(operator_client):
    conversion = pending_conversion()

    response = operator_client.post(
        LIST_URL,
        {
            "action": "approve_conversions",
            "_selected_action": [conversion.pk],
            "_return_to": "change",
            "apply": "Approve",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/admin/conversions/conversion/{conversion.pk}/change/"
    assert statuses(conversion) == ["approved"]


def test_support_cannot_approve_or_reject(support_client):
    conversion = pending_conversion()

    for data in [
        {"action": "approve_conversions", "index": "0", "apply": "Approve"},
        {"action": "reject_conversions", "reason": "no", "apply": "Reject"},
    ]:
        response = support_client.post(
            LIST_URL, {**data, "_selected_action": [conversion.pk]}, follow=True
        )
        assert "No action selected." in response.content.decode()

    assert statuses(conversion) == ["pending"]
    assert history(conversion) == [("created", "store:Demo", "")]


def test_it_refuses_a_reason_with_bidi_control_characters(operator_client):
    conversion = pending_conversion()

    response = operator_client.post(
        LIST_URL,
        {
            "action": "reject_conversions",
            "_selected_action": [conversion.pk],
            "reason": "Order \u202ereturned",
            "apply": "Reject",
        },
    )

    assert response.status_code == 200
    assert (
        "Must not contain bidirectional control characters (U+202A-202E, U+2066-2069)."
        in response.content.decode()
    )
    assert statuses(conversion) == ["pending"]
    assert history(conversion) == [("created", "store:Demo", "")]
