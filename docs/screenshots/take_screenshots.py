"""Demo traffic for the back office, and the README's screenshots of it from a real browser.

Against a throwaway database (never a real one: it rewrites dates and passwords):

    export DEBUG=true DATABASE_URL=sqlite:////tmp/h5demo.sqlite3
    .venv/bin/python manage.py migrate
    .venv/bin/python docs/screenshots/take_screenshots.py seed
    .venv/bin/python manage.py runserver 127.0.0.1:18500 &
    .venv/bin/python docs/screenshots/take_screenshots.py shoot http://127.0.0.1:18500

`shoot` drives Debian's Chromium (`apt-get install chromium`) through Playwright.
"""

import argparse
import io
import os
import random
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retrack.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from clicks.models import Click  # noqa: E402
from conversions.models import Conversion, ConversionChange, ConversionSource  # noqa: E402
from conversions.services import (  # noqa: E402
    approve_conversion,
    record_conversion,
    reject_conversion,
)
from partners.models import Partner  # noqa: E402
from retrack.lib.uuids import uuid7_floor  # noqa: E402
from stores.models import EventKind, Program  # noqa: E402
from stores.roles import OPERATOR_GROUP  # noqa: E402

OPERATOR = "olivia"
PASSWORD = "demo-only-" + "olivia"
DAYS = 30
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _uuid7_at(moment) -> uuid.UUID:
    floor = uuid7_floor(int(moment.timestamp() * 1000))
    return uuid.UUID(int=floor.int | random.getrandbits(56))


def _clicks(program: Program, partner: Partner, now) -> list[Click]:
    clicks = []
    for days_ago in range(DAYS):
        day = now - timedelta(days=days_ago)
        busy = 1.4 if day.weekday() >= 5 else 1.0
        for _ in range(int(random.randint(40, 90) * busy)):
            moment = day.replace(hour=random.randint(6, 23), minute=random.randint(0, 59))
            if moment > now:
                moment = now - timedelta(minutes=random.randint(1, 300))
            clicks.append(
                Click(
                    uuid=_uuid7_at(moment),
                    partner=partner,
                    program=program,
                    ref=f"rf-{random.randint(10_000_000, 99_999_999)}",
                    ip_address=f"192.0.2.{random.randint(1, 254)}",
                    browser="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
                    referer="https://www.refunder.se/",
                    country=random.choice(["SE", "SE", "SE", "NO", "FI"]),
                    created_at=moment,
                    is_bot=random.random() < 0.05,
                )
            )
    return Click.objects.bulk_create(clicks)


def _report(program: Program, click: Click, number: int):
    events = {event.kind: [] for event in program.events.all()}
    for event in program.events.order_by("name"):
        events[event.kind].append(event)
    if random.random() < 0.2:
        lead = events[EventKind.LEAD][0]
        payload = {"event": str(lead.uuid), "click": str(click.uuid), "reference": f"m-{number}"}
        return record_conversion(
            EventKind.LEAD, payload, source=ConversionSource.API, store=program.store
        ).conversion
    products = []
    for event in random.sample(events[EventKind.TRANSACTION], k=random.randint(1, 2)):
        price = random.choice([24900, 49900, 89900, 129900])
        products.append(
            {
                "event": str(event.uuid),
                "reference": f"SKU-{random.randint(100, 999)}",
                "name": event.name,
                "quantity": random.randint(1, 2),
                "price": price,
                "vat": price // 5,
            }
        )
    payload = {
        "event": products[0]["event"],
        "click": str(click.uuid),
        "orderNumber": f"{692549000 + number}",
        "orderSum": sum(line["price"] * line["quantity"] for line in products),
        "vatSum": sum(line["vat"] * line["quantity"] for line in products),
        "currency": program.currency,
        "products": products,
    }
    source = random.choice([ConversionSource.API, ConversionSource.SCRIPT])
    return record_conversion(
        EventKind.TRANSACTION, payload, source=source, store=program.store
    ).conversion


def seed() -> None:
    """The demo stores, a month of clicks, conversions in every state, an operator."""
    random.seed(7)
    call_command("seed_demo", stdout=io.StringIO())
    user, _ = get_user_model().objects.get_or_create(username=OPERATOR, is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=OPERATOR_GROUP))
    now = timezone.now()
    partner = Partner.objects.get(name="Refunder SE")
    number = 0
    for program in Program.objects.all():
        # Demo conversions are reported "now" for clicks up to a month old.
        Program.objects.filter(pk=program.pk).update(attribution_days=DAYS + 1)
        program.refresh_from_db()
        counted = [click for click in _clicks(program, partner, now) if not click.is_bot]
        for click in random.sample(counted, k=len(counted) // 25):
            number += 1
            conversion = _report(program, click, number)
            reported = min(click.created_at + timedelta(minutes=random.randint(5, 600)), now)
            Conversion.objects.filter(pk=conversion.pk).update(
                created_at=reported, updated_at=reported
            )
            ConversionChange.objects.filter(conversion=conversion).update(created_at=reported)
            age = now - reported
            if age > timedelta(days=10) and random.random() < 0.7:
                approve_conversion(conversion, actor=f"operator:{OPERATOR}")
            elif random.random() < 0.1:
                reject_conversion(
                    conversion, actor=f"store:{program.store.name}", reason="Order returned"
                )
        Program.objects.filter(pk=program.pk).update(attribution_days=30)
    print(f"Seeded {Click.objects.count()} clicks and {Conversion.objects.count()} conversions.")


def shoot(base_url: str) -> None:
    """Log in as the operator and capture the program page, the overview and a conversion."""
    from playwright.sync_api import sync_playwright

    program = Program.objects.get(name="Awesome Store SE")
    conversion = (
        Conversion.objects.filter(program=program, kind=EventKind.TRANSACTION, lines__position=1)
        .order_by("-created_at")
        .first()
    )
    # name: (path, whole page or only the first screen)
    pages = {
        "program.png": (f"/admin/stores/program/{program.pk}/change/", True),
        "overview.png": ("/admin/conversions/conversion/overview/", True),
        "conversion.png": (f"/admin/conversions/conversion/{conversion.pk}/change/", True),
        "conversions.png": ("/admin/conversions/conversion/", False),
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base_url}/admin/login/")
        page.fill("#id_username", OPERATOR)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base_url}/admin/")
        # Fold the navigation sidebar away (the admin remembers it) to give the pages room.
        page.goto(f"{base_url}/admin/stores/store/")
        page.click("#toggle-nav-sidebar")
        for name, (path, full_page) in pages.items():
            page.goto(base_url + path)
            page.screenshot(path=str(Path(__file__).parent / name), full_page=full_page)
            print(f"Saved docs/screenshots/{name}")
        browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["seed", "shoot"])
    parser.add_argument("base_url", nargs="?", default="http://127.0.0.1:18500")
    arguments = parser.parse_args()
    if arguments.step == "seed":
        seed()
    else:
        shoot(arguments.base_url.rstrip("/"))
