# Loaded with Django, so that tasks published from the web process use Retrack's Celery app.
from retrack.celery import app as celery_app

__all__ = ["celery_app"]
