"""The Celery application: `celery -A retrack worker --beat` runs the jobs and webhooks.

Its configuration is the Django settings named `CELERY_*` (retrack/settings.py), and its
tasks are each app's `tasks.py`. Beat's schedule is `CELERY_BEAT_SCHEDULE` in the settings.
"""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retrack.settings")

app = Celery("retrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender: Celery, **kwargs) -> None:
    # The file transport (the default broker) expects its folders to exist, and web,
    # worker or beat may be the first to start.
    if not str(sender.conf.broker_url).startswith("filesystem:"):
        return
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)
