"""The bundled demo: its stores and partner, an admin user, tokens, and a few weeks of traffic.

`seed_demo` (run by `make run`) calls `seed_demo`, which may run any number of times: the
onboarding document matches by name, the admin keeps the password it was given the first
time, the demo tokens are issued once (they are stored only as hashes, so they cannot be
shown again: a lost one is replaced with `create_token`; a revoked one is replaced on the
next run), and the traffic is added only to demo programs that have no clicks yet.
"""

import json
import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from clicks.models import Click
from conversions.models import Conversion, ConversionChange, ConversionSource
from conversions.services import (
    ConversionRefused,
    approve_conversion,
    record_conversion,
    reject_conversion,
    sequence_committed_changes,
)
from partners.models import Partner, PartnerToken
from partners.services import issue_partner_token
from retrack.lib.uuids import uuid7_floor
from stores.models import EventKind, Program, Store, StoreToken
from stores.onboarding import onboard
from stores.roles import ensure_roles
from stores.services import issue_store_token

DEMO_DOCUMENT = Path(__file__).resolve().parent / "fixtures" / "demo_onboarding.json"
DEMO_ADMIN = "admin"
DEMO_TOKEN_NAME = "demo"
# Names a first-time operator will not type for a store of their own.
DEMO_PARTNER = "Refunder (demo)"
DEMO_STORE = "Awesome Store (demo)"
# Sixty days, so that the dashboard's default 30 days compare with the 30 before.
TRAFFIC_DAYS = 60
DEMO_OPERATOR = "operator:demo"


@dataclass
class DemoSeeded:
    """What `seed_demo` did; the secrets are set only when made in this run."""

    partner: Partner
    programs: list[Program]
    admin_password: str | None = None
    store_token: str | None = None
    partner_token: str | None = None
    # (program name, clicks, conversions) added by this run
    traffic: list[tuple[str, int, int]] = field(default_factory=list)


@transaction.atomic
def seed_demo(*, now: datetime | None = None, rng: random.Random | None = None) -> DemoSeeded:
    """Onboard the demo, make the admin and tokens once, and add traffic where there is none."""
    now = now or timezone.now()
    rng = rng or random.Random(7)
    onboard(json.loads(DEMO_DOCUMENT.read_text(encoding="utf-8")))
    ensure_roles()
    partner = Partner.objects.get(name=DEMO_PARTNER)
    programs = list(Program.objects.filter(admissions__partner=partner).order_by("name"))
    seeded = DemoSeeded(partner=partner, programs=programs)
    seeded.admin_password = _ensure_admin()
    store = Store.objects.get(name=DEMO_STORE)
    # A demo token an operator revoked is replaced, so the demo always has one that works.
    demo_tokens = {"name": DEMO_TOKEN_NAME, "revoked_at__isnull": True}
    if not StoreToken.objects.filter(store=store, **demo_tokens).exists():
        _, seeded.store_token = issue_store_token(store, name=DEMO_TOKEN_NAME)
    if not PartnerToken.objects.filter(partner=partner, **demo_tokens).exists():
        _, seeded.partner_token = issue_partner_token(partner, name=DEMO_TOKEN_NAME)
    for program in programs:
        if not Click.objects.filter(program=program).exists():
            clicks, conversions = seed_demo_traffic(program, partner, now=now, rng=rng)
            seeded.traffic.append((program.name, clicks, conversions))
    # The demo's feed is numbered as it is seeded, not a moment after (beat, a read).
    sequence_committed_changes(wait=True, max_runs=1000)
    return seeded


def _ensure_admin() -> str | None:
    """Create the superuser `admin` with a fresh password; None when it already had one."""
    user, created = get_user_model().objects.get_or_create(username=DEMO_ADMIN)
    password = None
    if created or not user.password or not user.has_usable_password():
        password = secrets.token_urlsafe(12)
        user.set_password(password)
    user.is_staff = user.is_superuser = True
    user.save()
    return password


def seed_demo_traffic(
    program: Program,
    partner: Partner,
    *,
    now: datetime,
    rng: random.Random,
    days: int = TRAFFIC_DAYS,
    clicks_per_day: tuple[int, int] = (20, 40),
) -> tuple[int, int]:
    """`days` days of clicks (about 5 % bots) and conversions in every status up to `now`.

    The conversions go through `record_conversion`, as a store's report would, and are then
    dated back to a while after their click (with their history), so that they fall on the
    days of the chart. Answers the numbers of clicks and conversions made.
    """
    clicks = Click.objects.bulk_create(
        _demo_clicks(program, partner, now=now, rng=rng, days=days, per_day=clicks_per_day)
    )
    events: dict[str, list] = {EventKind.TRANSACTION: [], EventKind.LEAD: []}
    for event in program.events.order_by("name"):
        events[event.kind].append(event)
    # A demo conversion is recorded now for a click up to `days` old: widen the program's
    # attribution period for the time of this transaction only.
    attribution_days = program.attribution_days
    Program.objects.filter(pk=program.pk).update(attribution_days=days + 1)
    # A few bot clicks convert too, so that the back office's warning on them shows.
    converting = [click for click in clicks if rng.random() < (0.01 if click.is_bot else 0.04)]
    for number, click in enumerate(converting, start=1):
        conversion = _demo_conversion(program, click, events, f"{program.pk}-{number}", rng)
        reported = min(click.created_at + timedelta(minutes=rng.randint(5, 600)), now)
        Conversion.objects.filter(pk=conversion.pk).update(created_at=reported, updated_at=reported)
        ConversionChange.objects.filter(conversion=conversion).update(created_at=reported)
        if now - reported > timedelta(days=10) and rng.random() < 0.7:
            try:
                approve_conversion(conversion, actor=DEMO_OPERATOR)
            except ConversionRefused as refusal:
                if refusal.code != "conversion_flagged":
                    raise
                # A bot click's conversion is held for review: it stays in "Needs review".
        elif rng.random() < 0.12:
            reject_conversion(
                conversion, actor=f"store:{program.store.name}", reason="Order returned"
            )
    Program.objects.filter(pk=program.pk).update(attribution_days=attribution_days)
    return len(clicks), len(converting)


def _uuid7_at(moment: datetime, rng: random.Random) -> uuid.UUID:
    floor = uuid7_floor(int(moment.timestamp() * 1000))
    return uuid.UUID(int=floor.int | rng.getrandbits(56))


def _demo_clicks(
    program: Program,
    partner: Partner,
    *,
    now: datetime,
    rng: random.Random,
    days: int,
    per_day: tuple[int, int],
) -> list[Click]:
    clicks = []
    for days_ago in range(days):
        day = now - timedelta(days=days_ago)
        # Busier at weekends, and growing: the dashboard's changes show something.
        busy = (1.4 if day.weekday() >= 5 else 1.0) * (1.3 - 0.3 * days_ago / days)
        for _ in range(int(rng.randint(*per_day) * busy)):
            moment = day.replace(hour=rng.randint(6, 23), minute=rng.randint(0, 59))
            if moment > now:
                moment = now - timedelta(minutes=rng.randint(1, 300))
            clicks.append(
                Click(
                    uuid=_uuid7_at(moment, rng),
                    partner=partner,
                    program=program,
                    ref=f"rf-{rng.randint(10_000_000, 99_999_999)}",
                    deeplink=program.landing_url,
                    ip_address=f"192.0.2.{rng.randint(1, 254)}",
                    browser="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
                    referer="https://www.refunder.example/",
                    country=rng.choice(["SE", "SE", "SE", "NO", "FI"]),
                    created_at=moment,
                    is_bot=rng.random() < 0.05,
                )
            )
    clicks.sort(key=lambda click: click.uuid)
    return clicks


def _demo_conversion(
    program: Program, click: Click, events: dict, key: str, rng: random.Random
) -> Conversion:
    if rng.random() < 0.2 and events[EventKind.LEAD]:
        payload = {
            "event": str(events[EventKind.LEAD][0].uuid),
            "click": str(click.uuid),
            "reference": f"demo-lead-{key}",
        }
        return record_conversion(
            EventKind.LEAD, payload, source=ConversionSource.API, store=program.store
        ).conversion
    products = []
    for event in rng.sample(events[EventKind.TRANSACTION], k=rng.randint(1, 2)):
        price = rng.choice([24900, 49900, 89900, 129900])
        products.append(
            {
                "event": str(event.uuid),
                "reference": f"SKU-{rng.randint(100, 999)}",
                "name": event.name,
                "quantity": rng.randint(1, 2),
                "price": price,
                "vat": price // 5,
            }
        )
    payload = {
        "event": products[0]["event"],
        "click": str(click.uuid),
        "orderNumber": f"demo-{key}",
        "orderSum": sum(line["price"] * line["quantity"] for line in products),
        "vatSum": sum(line["vat"] * line["quantity"] for line in products),
        "currency": program.currency,
        "products": products,
    }
    source = rng.choice([ConversionSource.API, ConversionSource.SCRIPT])
    return record_conversion(
        EventKind.TRANSACTION, payload, source=source, store=program.store
    ).conversion
