"""No cache or proxy keeps an answer of the store or partner API.

Their conversions carry what a shopper's click told Retrack (IP address, user agent,
referer) and the partners' refs; an answer is for the token holder who asked, once.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

API_PREFIX = "/api/v2/"


class NoStoreApiMiddleware:
    """`Cache-Control: no-store` on every answer under /api/v2/, errors included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX):
            response["Cache-Control"] = "no-store"
        return response
