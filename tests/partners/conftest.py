import uuid

import pytest
from kombu import Connection

from retrack.celery import app
from tests.partners.celery_worker import BROKER_URL, rabbitmq_reachable


@pytest.fixture
def broker_queue(settings):
    """RabbitMQ and a fresh queue for this test, for the publisher here and the workers."""
    if not rabbitmq_reachable():
        pytest.skip(f"needs RabbitMQ at {BROKER_URL} (set CELERY_TEST_BROKER_URL); CI has it")
    settings.RETRACK_WEBHOOK_ALLOW_PRIVATE = True
    queue = f"retrack-test-{uuid.uuid4().hex[:12]}"
    saved = app.conf.broker_url, app.conf.task_default_queue
    app.conf.broker_url, app.conf.task_default_queue = BROKER_URL, queue
    yield queue
    app.conf.broker_url, app.conf.task_default_queue = saved
    with Connection(BROKER_URL) as cleanup, cleanup.channel() as channel:
        channel.queue_delete(queue)
