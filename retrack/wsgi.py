import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retrack.settings")

django_application = get_wsgi_application()

# The router imports views and models, so only once Django is set up.
from clicks.fast_path import TrackingLinkRouter  # noqa: E402

application = TrackingLinkRouter(django_application)
