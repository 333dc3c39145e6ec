"""The back office's review of held conversions: the list, clearing flags, the limits."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from conversions.models import ConversionChange, ConversionFlag, ConversionStatus
from conversions.services import approve_due_conversions, record_change
from tests.factories import ConversionFactory, ProgramFactory

pytestmark = pytest.mark.django_db

REVIEW_URL = "/admin/conversions/conversionforreview/"
LIST_URL = "/admin/conversions/conversion/"


def flagged_conversion(code="too_fast", **fields):
    """A pending conversion created with an open flag, as the services leave it."""
    conversion = ConversionFactory(source="script", confirmed=False, **fields)
    ConversionFlag.objects.create(conversion=conversion, code=code, reason=f"Looks {code}.")
    with transaction.atomic():
        record_change(conversion, action="created", actor="tag")
    return conversion


def test_the_review_list_holds_the_pending_flagged_conversions_only(operator_client):
    held = flagged_conversion(order_number="HELD-1")
    flagged_conversion(order_number="REJECTED-1", status=ConversionStatus.REJECTED)
    ConversionFactory(order_number="CLEAN-1")

    response = operator_client.get(REVIEW_URL)

    assert response.status_code == 200
    assert [row.pk for row in response.context["cl"].result_list] == [held.pk]
    assert "<code>too_fast</code>" in response.content.decode()


def test_an_operator_clears_the_flags_with_a_reason_kept_in_the_history(operator_client):
    # given
    conversion = flagged_conversion()
    assert approve_due_conversions(now=timezone.now() + timedelta(days=3650)) == 0

    # when
    response = operator_client.post(
        REVIEW_URL,
        {
            "action": "clear_conversion_flags",
            "_selected_action": [conversion.pk],
            "apply": "1",
            "reason": "Called the shopper: a real order.",
        },
        follow=True,
    )

    # then
    assert "Cleared the flags of 1 conversion(s)." in response.content.decode()
    flag = ConversionFlag.objects.get()
    assert (flag.cleared_by, flag.cleared_at is not None) == ("operator:olivia", True)
    change = ConversionChange.objects.order_by("id").last()
    assert (change.action, change.actor, change.reason, change.changes) == (
        "reviewed",
        "operator:olivia",
        "Called the shopper: a real order.",
        {"flags": [["too_fast"], []]},
    )
    assert change.snapshot["auto_approve_at"] is not None
    assert "flags" not in change.snapshot
    assert approve_due_conversions(now=timezone.now() + timedelta(days=3650)) == 1


def test_clearing_asks_for_a_reason_first(operator_client):
    conversion = flagged_conversion()

    response = operator_client.post(
        REVIEW_URL,
        {"action": "clear_conversion_flags", "_selected_action": [conversion.pk], "apply": "1"},
    )

    assert response.status_code == 200
    assert "Say why the flags can be cleared." in response.content.decode()
    assert ConversionFlag.objects.get().cleared_at is None
    assert ConversionChange.objects.count() == 1


def test_an_operator_cannot_approve_a_flagged_conversion(operator_client):
    conversion = flagged_conversion()

    response = operator_client.post(
        LIST_URL,
        {"action": "approve_conversions", "_selected_action": [conversion.pk], "apply": "1"},
        follow=True,
    )

    assert (
        "Approved 0 conversion(s). 1 held by flags: clear their flags first, or reject them."
        in response.content.decode()
    )
    conversion.refresh_from_db()
    assert conversion.status == "pending"
    assert ConversionChange.objects.count() == 1


def test_an_operator_rejects_from_the_review_list(operator_client):
    conversion = flagged_conversion()

    operator_client.post(
        REVIEW_URL,
        {
            "action": "reject_conversions",
            "_selected_action": [conversion.pk],
            "apply": "1",
            "reason": "Fake order",
        },
    )

    conversion.refresh_from_db()
    assert (conversion.status, conversion.status_reason) == ("rejected", "Fake order")
    assert operator_client.get(REVIEW_URL).context["cl"].result_list.count() == 0


def test_the_conversion_page_shows_its_flags_and_offers_to_clear_them(operator_client):
    conversion = flagged_conversion()

    page = operator_client.get(f"{LIST_URL}{conversion.pk}/change/").content.decode()

    assert "Looks too_fast." in page
    assert 'value="clear_conversion_flags"' in page
    assert 'value="approve_conversions"' not in page


def test_support_staff_see_the_review_list_but_cannot_clear(support_client):
    conversion = flagged_conversion()

    listing = support_client.get(REVIEW_URL)
    attempt = support_client.post(
        REVIEW_URL,
        {
            "action": "clear_conversion_flags",
            "_selected_action": [conversion.pk],
            "apply": "1",
            "reason": "fine",
        },
    )

    assert listing.status_code == 200
    # No action is offered to them: the post just shows the list again, changing nothing.
    assert attempt.status_code == 200
    assert attempt.context["action_form"] is None
    assert ConversionFlag.objects.get().cleared_at is None


def test_the_review_list_runs_a_bounded_number_of_queries(
    operator_client, django_assert_max_num_queries
):
    for _ in range(25):
        flagged_conversion()

    with django_assert_max_num_queries(9):
        response = operator_client.get(REVIEW_URL)

    assert len(response.context["cl"].result_list) == 25


def test_an_operator_sets_a_programs_limits(operator_client):
    program = ProgramFactory()
    url = f"/admin/stores/program/{program.pk}/change/"
    form = operator_client.get(url).context["adminform"].form
    data = {
        **{name: value for name, value in form.initial.items() if value is not None},
        "store": program.store_id,
        "allowed_domains": "store.example",
        "max_order_sum": "500000",
        "max_line_quantity": "5",
        "max_commission": "-1",
        "script_needs_confirmation": "on",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "admissions-TOTAL_FORMS": "0",
        "admissions-INITIAL_FORMS": "0",
    }

    refused = operator_client.post(url, data)
    accepted = operator_client.post(url, {**data, "max_commission": "20000"})

    assert refused.status_code == 200
    assert "Ensure this value is greater than or equal to 0." in refused.content.decode()
    assert accepted.status_code == 302
    program.refresh_from_db()
    assert (
        program.max_order_sum,
        program.max_line_quantity,
        program.max_commission,
        program.script_needs_confirmation,
    ) == (500000, 5, 20000, True)
