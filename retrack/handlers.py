"""The WSGI application: the tracking link gets a Django handler of its own.

Every shopper passes through `GET /track/v2/click` before anything else, so it is served
by a Django handler that runs only the security middleware. Sessions, authentication,
messages, CSRF and clickjacking headers serve the admin and cost a click about as much
as its INSERT. The view, the URL resolution and the request cycle are Django's own, the
same as every other path's.
"""

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

TRACKING_LINK_PATH = "/track/v2/click"
TRACKING_LINK_MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]


class SelectedMiddlewareHandler(WSGIHandler):
    """A Django WSGI handler that runs the given middleware instead of settings.MIDDLEWARE."""

    def __init__(self, middleware: list[str]) -> None:
        self.selected_middleware = middleware
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        # Django reads the list from settings; it is swapped only while this handler is
        # built, once, when the application is loaded.
        configured = settings.MIDDLEWARE
        settings.MIDDLEWARE = self.selected_middleware
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = configured


class TrackingLinkRouter:
    """Sends the tracking link to its lean handler and every other path to `default`."""

    def __init__(self, default: WSGIHandler) -> None:
        self.default = default
        self.tracking_link = SelectedMiddlewareHandler(TRACKING_LINK_MIDDLEWARE)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == TRACKING_LINK_PATH:
            return self.tracking_link(environ, start_response)
        return self.default(environ, start_response)
