"""gunicorn.conf.py as production runs it: workers, request ids, JSON access lines, metrics."""

import http.client
import json
import subprocess
import time

from tests.operations.helpers import (
    GUNICORN,
    ROOT,
    clean_environment,
    free_port,
    wait_until_listening,
)


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def scrape_until(port: int, expected: bytes) -> tuple[int, bytes]:
    """/metrics once it shows `expected`: each worker hands its counts over within a
    second (retrack.metrics.FLUSH_SECONDS); give up after 15 s on a busy machine."""
    deadline = time.monotonic() + 15
    while True:
        status, _, body = get(port, "/metrics", Authorization="Bearer scrape-token")
        if expected in body or time.monotonic() > deadline:
            return status, body
        time.sleep(0.2)


def test_gunicorn_serves_json_access_lines_and_adds_up_every_workers_metrics(tmp_path):
    port = free_port()
    metrics_folder = tmp_path / "metrics"
    # A leftover of an earlier run must not be added up.
    metrics_folder.mkdir()
    (metrics_folder / "counter_99999.db").write_bytes(b"\0" * 64)
    environment = clean_environment(
        DJANGO_SETTINGS_MODULE="retrack.settings",
        DEBUG="false",
        SECRET_KEY="gunicorn-test-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        RETRACK_METRICS_TOKEN="scrape-token",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_ACCESS_LOG="-",
        LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_folder),
    )
    process = subprocess.Popen(
        [str(GUNICORN), "retrack.wsgi"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_listening(port, process)
        # New connections each time, so that both workers answer some.
        answers = [get(port, "/healthz", **{"X-Request-ID": f"probe-{n}"}) for n in range(20)]
        status, body = scrape_until(port, b'endpoint="healthz",status="200"} 20.0')
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=30)

    assert [answer[0] for answer in answers] == [200] * 20
    assert [answer[1]["X-Request-ID"] for answer in answers] == [f"probe-{n}" for n in range(20)]
    assert status == 200
    assert (
        'retrack_http_request_duration_seconds_count{endpoint="healthz",status="200"} 20.0'
        in body.decode()
    )
    access = [json.loads(line) for line in stdout.splitlines() if '"gunicorn.access"' in line]
    # Two workers write to one stream: the lines need not come in request order.
    probes = {entry["request_id"]: entry for entry in access if entry["path"] == "/healthz"}
    assert set(probes) == {f"probe-{n}" for n in range(20)}
    first = probes["probe-0"]
    assert (first["method"], first["status"]) == ("GET", 200)
    assert "127.0.0.1" not in stdout
    assert "Booting worker" in stdout, stderr
