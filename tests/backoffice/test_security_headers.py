"""The back office and the API docs: a strict Content-Security-Policy, framing and HTTPS."""

import re
from pathlib import Path

import pytest
from csp.constants import NONCE
from csp.exceptions import CSPNonceError
from django.http import HttpResponse
from django.test import RequestFactory

from retrack.middleware import ContentSecurityPolicyMiddleware

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}
# What the policy forbids in a page: inline scripts, inline styles, event-handler attributes.
INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|<style|\sstyle=|\son\w+="
)


def directives(header: str) -> dict[str, str]:
    """A policy header as {directive: sources} (django-csp writes them in any order)."""
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.parametrize(
    ("path", "logged_in"),
    [("/admin/", True), ("/admin/conversions/conversion/", True), ("/admin/login/", False)],
)
def test_the_back_office_carries_the_policy(operator_client, client, path, logged_in):
    response = (operator_client if logged_in else client).get(path)

    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == POLICY
    assert response["X-Frame-Options"] == "DENY"


def test_the_locked_out_login_page_carries_the_policy(client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/admin/login/", {"username": "olivia", "password": "wrong"})

    assert response.status_code == 429
    assert directives(response["Content-Security-Policy"]) == POLICY


def test_the_api_docs_page_loads_its_script_and_styles_from_files(client):
    page = client.get("/api/docs/")
    script = client.get("/api/docs/", {"script": ""})

    html = page.content.decode()
    assert page.status_code == 200
    assert directives(page["Content-Security-Policy"]) == POLICY
    assert INLINE_CODE.findall(html) == []
    assert '<script src="/api/docs/?script="></script>' in html
    assert '<link rel="stylesheet" href="/static/api/docs.css">' in html
    assert script.status_code == 200
    assert script["Content-Type"] == "application/javascript"
    assert "SwaggerUIBundle" in script.content.decode()


def test_no_back_office_template_of_ours_has_inline_code():
    templates = sorted((ROOT / "templates" / "admin").rglob("*.html"))
    templates.append(ROOT / "templates" / "drf_spectacular" / "swagger_ui.html")

    offending = {
        str(template.relative_to(ROOT)): INLINE_CODE.findall(template.read_text())
        for template in templates
        if INLINE_CODE.search(template.read_text())
    }

    assert len(templates) > 10
    assert offending == {}


def test_an_https_request_is_told_to_stay_on_https(client):
    secure = client.get("/admin/login/", secure=True)
    plain = client.get("/admin/login/")

    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain


def test_a_plain_http_request_is_sent_to_https_when_asked(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/admin/login/?next=/admin/"


def _answered(request=None, **response_attributes):
    """The policy middleware's answer to a plain 200 whose view set `response_attributes`."""
    request = request or RequestFactory().get("/admin/")

    def view(request):
        response = HttpResponse("ok", headers=response_attributes.pop("headers", None))
        for name, value in response_attributes.items():
            setattr(response, name, value)
        return response

    return ContentSecurityPolicyMiddleware(view)(request)


def test_it_answers_the_sites_policy_built_once_from_the_settings():
    first, second = _answered(), _answered()

    assert directives(first["Content-Security-Policy"]) == POLICY
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in first


def test_it_answers_a_changed_policy_once_the_settings_change(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'none'"]}}

    response = _answered()

    assert response["Content-Security-Policy"] == "default-src 'self'"
    # django-csp gives a policy without default-src its default.
    assert directives(response["Content-Security-Policy-Report-Only"]) == {
        "default-src": "'self'",
        "img-src": "'none'",
    }


def test_a_views_own_changes_to_the_policy_still_apply():
    updated = _answered(_csp_update={"img-src": ["https://cdn.example"]})
    exempt = _answered(_csp_exempt=True)
    already = _answered(headers={"Content-Security-Policy": "sandbox"})

    assert directives(updated["Content-Security-Policy"]) == {
        **POLICY,
        "img-src": "'self' data: https://cdn.example",
    }
    assert "Content-Security-Policy" not in exempt
    assert already["Content-Security-Policy"] == "sandbox"


def test_a_nonce_the_page_used_is_in_its_policy_and_one_asked_for_too_late_is_refused(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}
    request = RequestFactory().get("/admin/")
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse(request.csp_nonce))
    late = RequestFactory().get("/admin/")

    response = middleware(request)
    ContentSecurityPolicyMiddleware(lambda request: HttpResponse("no nonce"))(late)

    nonce = response.content.decode()
    assert directives(response["Content-Security-Policy"]) == {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
    }
    with pytest.raises(CSPNonceError):
        str(late.csp_nonce)
