import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retrack.settings")

from retrack.handlers import TrackingLinkRouter  # noqa: E402  (after Django's set-up)

application = TrackingLinkRouter(get_wsgi_application())
