"""Writes for partner webhooks: endpoints, the outbox of deliveries, attempts and sweeps.

The flow: the sequencer's run that numbers a committed change also writes one
WebhookDelivery per active endpoint of its partner (`record_webhook_events`, called by
`conversions.services.sequencing`), so each delivery carries the change's number; after
that commit the delivery ids are queued (dispatch.py); a worker attempts each one
(`attempt_webhook_delivery`); beat's sweep re-queues whatever is due and unqueued — a
retry, a message the broker lost, an attempt whose worker died (`sweep_due_deliveries`).
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from partners.models import DeliveryStatus, Partner, WebhookDelivery, WebhookEndpoint
from partners.webhooks.dispatch import queue_deliveries_on_commit
from partners.webhooks.events import WebhookEvent
from partners.webhooks.sending import AttemptResult, post_webhook
from retrack.lib.public_addresses import UnsafeUrl, resolve_webhook_url
from retrack.lib.webhook_signing import new_webhook_secret, sign_webhook
from retrack.metrics import count_webhook_delivery

logger = logging.getLogger(__name__)

ENDPOINTS_PER_PARTNER = 10
# An endpoint none of whose deliveries succeeded for this long is switched off.
DEACTIVATE_AFTER = timedelta(days=3)
SWEEP_BATCH = 1000


class WebhookRefused(Exception):
    """An endpoint registration refused, with the fields at fault (nothing was written)."""

    def __init__(self, message: str, fields: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


# --- Endpoints ----------------------------------------------------------------------------


def webhook_url_problem(url: str) -> str | None:
    """Why Retrack may not call `url`, or None.

    It must be https on public addresses (checked by resolving it now, and again at every
    attempt) unless RETRACK_WEBHOOK_ALLOW_PRIVATE is on.
    """
    try:
        resolve_webhook_url(url, allow_private=settings.RETRACK_WEBHOOK_ALLOW_PRIVATE)
    except UnsafeUrl as error:
        return str(error)
    return None


def register_webhook_endpoint(
    partner: Partner, *, url: str, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for the partner; returns it and its secret, shown this once.

    The description comes parsed (the API's declaration, the back office's form).
    WebhookRefused, with nothing written, for a URL `webhook_url_problem` refuses or past
    ENDPOINTS_PER_PARTNER endpoints.
    """
    problem = webhook_url_problem(url)
    if problem:
        raise WebhookRefused("The webhook endpoint's URL is refused.", {"url": [problem]})
    secret = new_webhook_secret()
    with transaction.atomic():
        # The partner's row lock makes the count and the insert one step for concurrent
        # registrations (SQLite serialises writers anyway).
        Partner.objects.select_for_update().only("pk").get(pk=partner.pk)
        if WebhookEndpoint.objects.filter(partner=partner).count() >= ENDPOINTS_PER_PARTNER:
            raise WebhookRefused(
                f"A partner can have at most {ENDPOINTS_PER_PARTNER} webhook endpoints.",
                {"url": [f"at most {ENDPOINTS_PER_PARTNER} endpoints; delete one first"]},
            )
        endpoint = WebhookEndpoint.objects.create(
            partner=partner, url=url, description=description, secret=secret
        )
    return endpoint, secret


def delete_webhook_endpoint(endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint and its deliveries; attempts in flight find nothing to send."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


# --- The outbox ---------------------------------------------------------------------------


def record_webhook_event(partner_id: int, event: WebhookEvent) -> list[int]:
    """One pending delivery of the event per active endpoint of the partner, queued on commit.

    Call it inside the transaction that made the event happen: the deliveries then exist
    exactly when the change does, whatever becomes of the broker or this process.
    """
    return record_webhook_events([(partner_id, event)])


def record_webhook_events(events: list[tuple[int, WebhookEvent]]) -> list[int]:
    """`record_webhook_event` for many (partner id, event) pairs: one read, one INSERT.

    The sequencer calls it for every change it numbers, in the run's transaction
    (`conversions.services.sequencing`).
    """
    partner_ids = {partner_id for partner_id, _ in events}
    if not partner_ids:
        return []
    endpoints_by_partner: dict[int, list[int]] = {}
    active = WebhookEndpoint.objects.filter(partner_id__in=partner_ids, active=True)
    for endpoint_pk, partner_id in active.order_by("pk").values_list("pk", "partner_id"):
        endpoints_by_partner.setdefault(partner_id, []).append(endpoint_pk)
    if not endpoints_by_partner:
        return []
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint_id=endpoint_pk,
            event_id=event.event_id,
            event_type=event.type,
            body=body,
            next_attempt_at=now,
            queued_at=now,
            created_at=now,
        )
        for partner_id, event in events
        for body in [event.body()]
        for endpoint_pk in endpoints_by_partner.get(partner_id, [])
    )
    delivery_pks = [delivery.pk for delivery in deliveries]
    queue_deliveries_on_commit(delivery_pks)
    return delivery_pks


def has_active_webhook_endpoints(partner_id: int) -> bool:
    """Whether the partner has an endpoint to push to (a change then asks to be numbered)."""
    return WebhookEndpoint.objects.filter(partner_id=partner_id, active=True).exists()


# --- Attempts -----------------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=settings.RETRACK_WEBHOOK_LEASE_SECONDS)


def attempt_webhook_delivery(delivery_pk: int) -> str:
    """Make one attempt of a due delivery, then record it delivered, to retry, or failed.

    The attempt first claims the delivery with a conditional UPDATE that moves its next
    attempt to the end of a lease: of two messages for the same delivery (a sweep's and a
    late original), only one sends, and a worker that dies mid-attempt leaves a delivery
    the sweep finds again once the lease has run out. Safe to call with any id, any number
    of times: what is not due, no longer pending or gone is left alone.
    """
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_pk,
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
        endpoint__active=True,
    ).update(attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=now + _lease())
    if not claimed:
        return "not due"
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_pk).first()
    if delivery is None:
        return "gone"  # its endpoint was deleted meanwhile
    result = _send(delivery)
    if result.delivered:
        _record_delivered(delivery, result)
        count_webhook_delivery("delivered")
        return "delivered"
    _record_failed_attempt(delivery, result)
    count_webhook_delivery("retrying" if retry_delay(delivery.attempts) else "failed")
    return f"failed: {result.note}"


def _send(delivery: WebhookDelivery) -> AttemptResult:
    endpoint = delivery.endpoint
    try:
        target = resolve_webhook_url(
            endpoint.url, allow_private=settings.RETRACK_WEBHOOK_ALLOW_PRIVATE
        )
    except UnsafeUrl as error:
        return AttemptResult(None, f"URL refused: {error}")
    body = delivery.body.encode()
    message_id = str(delivery.event_id)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(endpoint.secret, message_id, timestamp, body),
    }
    return post_webhook(target, headers, body)


def _record_delivered(delivery: WebhookDelivery, result: AttemptResult) -> None:
    # Delivered is final, whichever attempt got there.
    WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.DELIVERED,
        delivered_at=timezone.now(),
        last_status_code=result.status_code,
        last_error="",
        next_attempt_at=None,
    )
    if delivery.endpoint.failing_since is not None:
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(failing_since=None)


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after the `attempts`-th failed attempt, or None when it was the last one."""
    delays = settings.RETRACK_WEBHOOK_RETRY_SECONDS
    if attempts > len(delays):
        return None
    return timedelta(seconds=delays[attempts - 1])


def _record_failed_attempt(delivery: WebhookDelivery, result: AttemptResult) -> None:
    now = timezone.now()
    delay = retry_delay(delivery.attempts)
    outcome = {"last_status_code": result.status_code, "last_error": result.note[:500]}
    if delay is None:
        outcome.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        outcome.update(next_attempt_at=now + delay)
    with transaction.atomic():
        # Only while this attempt is still the latest: a newer one (after our lease ran
        # out) records its own outcome.
        WebhookDelivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
        ).update(**outcome)
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=True).update(
            failing_since=now
        )
        _deactivate_if_failing_too_long(delivery.endpoint_id, now)


def _deactivate_if_failing_too_long(endpoint_pk: int, now) -> None:
    deactivated = WebhookEndpoint.objects.filter(
        pk=endpoint_pk, active=True, failing_since__lte=now - DEACTIVATE_AFTER
    ).update(active=False, deactivated_at=now)
    if deactivated:
        WebhookDelivery.objects.filter(
            endpoint_id=endpoint_pk, status=DeliveryStatus.PENDING
        ).update(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            last_error="Endpoint deactivated: its deliveries failed for 3 days.",
        )
        logger.warning("Webhook endpoint %s deactivated after 3 days of failures", endpoint_pk)


# --- Sweeping and redelivering ------------------------------------------------------------


def sweep_due_deliveries(*, limit: int = SWEEP_BATCH) -> list[int]:
    """The ids of due deliveries that no queued message covers; marks them queued now.

    Due: pending, of an active endpoint, and past `next_attempt_at` (a retry's time, or
    the end of a dead attempt's lease). Not covered: queued longer than a lease ago, so a
    delivery whose message is on its way is not queued twice in a row, while one whose
    message was lost (broker down, worker killed) is queued again.
    """
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
            queued_at__lte=now - _lease(),
            endpoint__active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if due:
        WebhookDelivery.objects.filter(pk__in=due).update(queued_at=now)
    return due


def redeliver_webhook_deliveries(deliveries) -> tuple[int, int]:
    """Send the deliveries again from the first attempt (back office); (queued, skipped).

    A delivery of an inactive endpoint is skipped: reactivate the endpoint first.
    """
    now = timezone.now()
    with transaction.atomic():
        pks = list(deliveries.filter(endpoint__active=True).values_list("pk", flat=True))
        WebhookDelivery.objects.filter(pk__in=pks).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            queued_at=now,
            delivered_at=None,
        )
        queue_deliveries_on_commit(pks)
    return len(pks), deliveries.count() - len(pks)


__all__ = [
    "WebhookRefused",
    "attempt_webhook_delivery",
    "delete_webhook_endpoint",
    "has_active_webhook_endpoints",
    "record_webhook_event",
    "record_webhook_events",
    "redeliver_webhook_deliveries",
    "register_webhook_endpoint",
    "retry_delay",
    "sweep_due_deliveries",
    "webhook_url_problem",
]
