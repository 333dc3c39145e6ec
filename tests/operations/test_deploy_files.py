"""The deploy files: compose.yaml, the Dockerfile and the systemd units hold together.

No container engine runs here, so what can be checked without one is: compose.yaml's
structure (and `docker-compose config` where that tool is installed), that the
Dockerfile copies and runs what exists, and the units with `systemd-analyze verify`.
"""

import re
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
import yaml

from clicks.fast_path import ROUTES
from tests.operations.helpers import ROOT

RETRACK_SERVICES = {"migrate", "web", "worker", "beat"}
COMPOSE_VARIABLES = {
    "SECRET_KEY": "compose-check-secret",
    "ALLOWED_HOSTS": "retrack.example.com",
    "RETRACK_PUBLIC_URL": "https://retrack.example.com",
    "POSTGRES_PASSWORD": "postgres-password",
    "RABBITMQ_PASSWORD": "rabbitmq-password",
}


def interpolated(text: str, variables: dict[str, str]) -> str:
    """`${NAME:?message}` and `${NAME:-default}` replaced as Compose replaces them."""

    def replace(match: re.Match) -> str:
        name, kind, rest = match.groups()
        if name in variables:
            return variables[name]
        assert kind == "-", f"{name} is required: {rest}"
        return rest

    return re.sub(r"\$\{(\w+)(?::([?-])([^}]*))?\}", replace, text)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(interpolated((ROOT / "compose.yaml").read_text(), COMPOSE_VARIABLES))


def test_compose_runs_web_worker_beat_postgresql_and_rabbitmq(compose):
    services = compose["services"]

    assert set(services) == RETRACK_SERVICES | {"postgres", "rabbitmq"}
    assert services["web"]["command"] == ["gunicorn", "retrack.wsgi"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "retrack", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "retrack", "beat"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["rabbitmq"]["image"].startswith("rabbitmq:")


def test_every_retrack_service_runs_the_same_image_with_the_same_settings(compose):
    services = compose["services"]
    web = services["web"]

    for name in RETRACK_SERVICES:
        assert services[name]["image"] == web["image"] == "retrack:latest"
        assert services[name]["build"] == "."
        assert services[name]["environment"] == web["environment"]


def test_the_settings_point_at_the_composed_database_and_broker(compose):
    environment = compose["services"]["web"]["environment"]
    database = urlsplit(environment["DATABASE_URL"])
    broker = urlsplit(environment["CELERY_BROKER_URL"])
    postgres = compose["services"]["postgres"]["environment"]
    rabbitmq = compose["services"]["rabbitmq"]["environment"]

    assert (database.scheme, database.hostname, database.port) == ("postgres", "postgres", 5432)
    assert database.username == postgres["POSTGRES_USER"]
    assert database.path == "/" + postgres["POSTGRES_DB"]
    assert database.password == postgres["POSTGRES_PASSWORD"]
    assert (broker.scheme, broker.hostname, broker.port) == ("amqp", "rabbitmq", 5672)
    assert broker.username == rabbitmq["RABBITMQ_DEFAULT_USER"]
    assert broker.password == rabbitmq["RABBITMQ_DEFAULT_PASS"]


def test_services_start_in_order_and_web_is_checked_on_readyz(compose):
    services = compose["services"]

    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    probe = " ".join(services["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in probe
    assert "/readyz" in ROUTES
    assert services["web"]["ports"] == ["8000:8000"]


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed here"
)
def test_docker_compose_accepts_the_file():
    result = subprocess.run(
        ["docker-compose", "-f", "compose.yaml", "config", "--quiet"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **COMPOSE_VARIABLES},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr


def test_the_dockerfile_copies_what_exists_and_serves_what_compose_expects():
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    copies = [line.split()[1:-1] for line in lines if line.startswith("COPY ")]

    assert copies[0] == ["pyproject.toml", "constraints.txt"]
    assert all((ROOT / source).exists() for source in copies[0])
    assert 'CMD ["gunicorn", "retrack.wsgi"]' in lines
    assert "EXPOSE 8000" in lines
    assert any("http://127.0.0.1:8000/healthz" in line for line in lines)
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored
    assert ".git" in ignored


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here"
)
@pytest.mark.parametrize("unit", ["retrack-web", "retrack-worker", "retrack-beat"])
def test_the_systemd_units_verify(unit, tmp_path):
    # The example paths, pointed at this checkout, so that the commands they run exist.
    environment_file = tmp_path / "retrack.env"
    environment_file.write_text((ROOT / "docs/deploy/retrack.env.example").read_text())
    text = (
        (ROOT / f"docs/deploy/{unit}.service")
        .read_text()
        .replace("/srv/retrack", str(ROOT))
        .replace("/etc/retrack/retrack.env", str(environment_file))
    )
    if "celery" in text and not (ROOT / ".venv/bin/celery").exists():
        pytest.skip("Celery is not installed in this virtual environment")
    (tmp_path / f"{unit}.service").write_text(text)

    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / f"{unit}.service")],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
