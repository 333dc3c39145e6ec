"""The tracking link as a Django view, for the URLconf: `reverse()`, `runserver` and live
test servers. In production `clicks.fast_path.TrackingLinkRouter` answers the link before
Django's request cycle; both serve `clicks.fast_path.answer_tracking_link`.
"""

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from clicks.fast_path import answer_tracking_link


# Autocommit even if ATOMIC_REQUESTS is ever turned on: the click must be committed
# before the redirect leaves, not after the response is built.
@transaction.non_atomic_requests
def track_click(request: HttpRequest) -> HttpResponse:
    """The tracking link as a Django view: the same answer, through Django's middleware."""
    answer = answer_tracking_link(request.META)
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        response[name] = value
    return response
