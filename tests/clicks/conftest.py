import pytest

from tests.factories import AdmissionFactory, PartnerFactory, ProgramFactory


@pytest.fixture
def partner(db):
    return PartnerFactory(name="Refunder SE")


@pytest.fixture
def program(db, partner):
    """A program with a redirect page, the partner admitted."""
    program = ProgramFactory(
        name="Awesome Store SE",
        landing_url="https://www.awesome-store.example/",
        allowed_domains=["awesome-store.example"],
        redirect_page_url="https://www.awesome-store.example/retrack",
    )
    AdmissionFactory(partner=partner, program=program)
    return program


@pytest.fixture
def direct_program(db, partner):
    """A program without a redirect page, the partner admitted."""
    program = ProgramFactory(
        name="Direct Store SE",
        landing_url="https://www.direct-store.example/start?lang=sv",
        allowed_domains=["direct-store.example"],
        redirect_page_url="",
    )
    AdmissionFactory(partner=partner, program=program)
    return program
