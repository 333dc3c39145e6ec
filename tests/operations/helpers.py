import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from retrack.wsgi import application
from tests.wsgi import serve

ROOT = Path(__file__).resolve().parent.parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen, log: Path | None = None) -> None:
    """Until the server `process` accepts connections on `port` (30 s at most); its `log`
    is shown if it stops instead."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn stopped" + (f": {log.read_text()}" if log else "")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


@contextmanager
def gunicorn(environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`gunicorn retrack.wsgi` run from the repository with `environment` (its bind in
    GUNICORN_BIND), its output added to `log`, once it accepts connections; stopped after."""
    port = int(environment["GUNICORN_BIND"].rpartition(":")[2])
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(GUNICORN), "retrack.wsgi"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_listening(port, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def call(
    path: str, method: str = "GET", wsgi=application, **extra: str
) -> tuple[int, dict[str, str], bytes]:
    """`path` answered by the WSGI application as gunicorn calls it: status, headers, body."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "192.0.2.7",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        **extra,
    }
    status, headers, body = serve(wsgi, environ)
    return int(status.split()[0]), dict(headers), body


def clean_environment(**environment: str) -> dict[str, str]:
    """This process's environment without Retrack's settings, plus `environment`.

    Neither variables a developer has set nor the repository's .env (RETRACK_ENV_FILE)
    leak in: every setting the process depends on is given.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("RETRACK_", "SENTRY_", "DJANGO_", "PROMETHEUS_", "LOG_", "GUNICORN_", "SECURE_")
        )
        and key
        not in {
            "DATABASE_URL",
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "CACHE_URL",
            "WEB_CONCURRENCY",
            "CSRF_TRUSTED_ORIGINS",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
        }
    }
    env["RETRACK_ENV_FILE"] = os.devnull
    env.update(environment)
    return env


def run_python(code: str, **environment: str) -> subprocess.CompletedProcess:
    """`code` run by a fresh interpreter with the test settings and only `environment` added."""
    env = clean_environment(**environment)
    env.setdefault("DJANGO_SETTINGS_MODULE", "retrack.settings_test")
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def json_body(body: bytes) -> Any:
    return json.loads(body.decode())
