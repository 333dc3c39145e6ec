"""The production checklist: `check --deploy` passes with the documented settings."""

import secrets
import subprocess
import sys

from tests.operations.helpers import ROOT, clean_environment

DOCUMENTED = ROOT / "docs" / "deploy" / "retrack.env.example"


def documented_settings() -> dict[str, str]:
    """docs/deploy/retrack.env.example, with a fresh secret key where it leaves one blank."""
    settings = {}
    for line in DOCUMENTED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            settings[name] = value
    settings["SECRET_KEY"] = secrets.token_urlsafe(50)
    return settings


def check_deploy(settings: dict[str, str]) -> subprocess.CompletedProcess:
    # A clean environment: neither a developer's variables nor the repository's .env.
    environment = clean_environment(DJANGO_SETTINGS_MODULE="retrack.settings", **settings)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_check_deploy_passes_with_the_documented_settings():
    result = check_deploy(documented_settings())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_when_https_is_not_enforced():
    settings = documented_settings()
    settings["SECURE_SSL_REDIRECT"] = "false"

    result = check_deploy(settings)

    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr
