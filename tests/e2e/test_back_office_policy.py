"""The back office and the API docs work in a real browser under the Content-Security-Policy."""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import AdmissionFactory, ClickFactory, ConversionFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long and unguessable password"
# Every violation the page reports, collected before any of its own scripts runs.
WATCH_VIOLATIONS = """
window.policyViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.policyViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def page(browser, retrack_server):
    context = browser.new_context(base_url=retrack_server.url)
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    yield page
    context.close()


def violations(page) -> list[str]:
    return page.evaluate("window.policyViolations")


def test_an_operator_logs_in_and_works_without_a_policy_violation(page):
    # given
    get_user_model().objects.create_superuser("olivia", "olivia@example.com", PASSWORD)
    admission = AdmissionFactory()
    conversion = ConversionFactory(click=ClickFactory(program=admission.program))
    pages = [
        "/admin/",
        "/admin/conversions/conversion/",
        f"/admin/conversions/conversion/{conversion.pk}/change/",
        "/admin/conversions/conversion/overview/",
        "/admin/clicks/click/",
        f"/admin/stores/program/{admission.program.pk}/change/",
    ]

    # when
    page.goto("/admin/login/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    seen = {}
    for path in pages:
        response = page.goto(path)
        seen[path] = (response.status, violations(page))
    link = page.locator("#tracking-links input").first
    link.focus()
    selected = link.evaluate("field => [field.selectionStart, field.selectionEnd]")

    # then
    assert seen == {path: (200, []) for path in pages}
    assert selected == [0, len(link.input_value())]


def test_the_api_docs_render_without_a_policy_violation(page):
    response = page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")

    assert response.status == 200
    assert "Retrack API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 3
    assert violations(page) == []
