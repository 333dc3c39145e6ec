"""Every back-office list page runs a fixed number of queries, however many rows it shows."""

import pytest

from partners.services import issue_partner_token
from stores.services import issue_store_token
from tests.factories import (
    AdmissionFactory,
    ClickFactory,
    ConversionFactory,
    EventFactory,
    PartnerFactory,
    ProductLineFactory,
    ProgramFactory,
)

pytestmark = pytest.mark.django_db

ROWS = 25


@pytest.fixture
def many_rows():
    """25 rows for every list, each with its own program, partner and store."""
    for _ in range(ROWS):
        conversion = ConversionFactory()
        ProductLineFactory(conversion=conversion)
        program, partner = conversion.program, conversion.partner
        AdmissionFactory(program=program, partner=partner)
        ClickFactory(program=program, partner=partner)
        EventFactory(program=program)
        issue_store_token(program.store)
        issue_partner_token(partner)
    ProgramFactory()
    PartnerFactory()


@pytest.mark.parametrize(
    ("url", "most_queries"),
    [
        ("/admin/stores/store/", 7),
        ("/admin/stores/program/", 9),
        ("/admin/stores/event/", 8),
        ("/admin/stores/storetoken/", 8),
        ("/admin/partners/partner/", 7),
        ("/admin/partners/admission/", 9),
        ("/admin/partners/partnertoken/", 8),
        ("/admin/clicks/click/", 8),
        # The conversions and their open flags.
        ("/admin/conversions/conversion/", 9),
    ],
)
def test_a_list_page_runs_a_bounded_number_of_queries(
    operator_client, many_rows, django_assert_max_num_queries, url, most_queries
):
    with django_assert_max_num_queries(most_queries):
        response = operator_client.get(url)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= ROWS


def test_a_conversion_page_runs_a_bounded_number_of_queries(
    operator_client, django_assert_max_num_queries
):
    conversion = ConversionFactory()
    ProductLineFactory.create_batch(ROWS, conversion=conversion)

    # 9, and its flags: the inline, and whether to offer clearing them.
    with django_assert_max_num_queries(11):
        response = operator_client.get(f"/admin/conversions/conversion/{conversion.pk}/change/")

    assert response.status_code == 200
