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
import json
import os
import sys
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
from conversions.claims.models import Claim  # noqa: E402
from conversions.claims.services import decline_claim, file_claim  # noqa: E402
from conversions.models import Conversion, ConversionStatus, ReportOutcome, ReportSource  # noqa: E402
from conversions.services.report_log import ReportVerdict, log_report  # noqa: E402
from conversions.trust import open_flags_exist  # noqa: E402
from stores.models import EventKind, Program  # noqa: E402
from stores.roles import OPERATOR_GROUP  # noqa: E402

OPERATOR = "olivia"
PASSWORD = "demo-only-" + "olivia"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def seed() -> None:
    """The demo (stores, two months of traffic, conversions in every state), a few claims
    and refused reports, and an operator."""
    call_command("seed_demo", stdout=io.StringIO())
    if not Claim.objects.exists():
        seed_claims_and_refusals()
    user, _ = get_user_model().objects.get_or_create(username=OPERATOR, is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=OPERATOR_GROUP))
    print(f"Seeded {Click.objects.count()} clicks and {Conversion.objects.count()} conversions.")


def seed_claims_and_refusals() -> None:
    """Missed-order claims of the demo partner (three open, one declined) on recent clicks
    without a conversion, and a few refused store API reports in the report log, so that
    the claims list, the dashboard's counts and its integration health show something."""
    program = Program.objects.get(name="Awesome Store SE (demo)")
    clicks = list(
        Click.objects.filter(
            program=program,
            is_bot=False,
            conversions__isnull=True,
            created_at__gte=timezone.now() - timedelta(days=6),
            created_at__lte=timezone.now() - timedelta(days=1),
        ).order_by("created_at")[:4]
    )
    for number, click in enumerate(clicks):
        filed = file_claim(
            click.partner,
            {
                "program": str(program.uuid),
                "click": str(click.uuid),
                "kind": "transaction",
                "orderNumber": f"claimed-{1001 + number}",
                "orderSum": [49900, 129900, 24900, 89900][number],
                "vatSum": [9980, 25980, 4980, 17980][number],
                "currency": program.currency,
                "orderedAt": (click.created_at + timedelta(minutes=40)).isoformat(),
                "note": "The shopper sent the order confirmation.",
            },
        )
        if number == 3:
            decline_claim(filed.claim, "No such order in the shop.", actor="operator:olivia")
    for minutes in (35, 80, 190):
        log_report(
            ReportVerdict(
                ReportOutcome.REFUSED,
                422,
                "currency_mismatch",
                f"The program's currency is {program.currency}, not EUR.",
                program=program,
            ),
            source=ReportSource.API,
            kind="transaction",
            store_id=program.store_id,
            payload=json.dumps({"orderNumber": f"A-{minutes}", "currency": "EUR"}),
        )


def shoot(base_url: str) -> None:
    """Log in as the operator and capture the dashboard, a program, the overview, a
    conversion, the conversion list, the "Needs review" list and a flagged conversion, and
    the claims list."""
    from playwright.sync_api import sync_playwright

    program = Program.objects.get(name="Awesome Store SE (demo)")
    conversion = (
        Conversion.objects.filter(
            program=program, kind=EventKind.TRANSACTION, status="pending", lines__position=1
        )
        .order_by("-created_at")
        .first()
    )
    flagged = (
        Conversion.objects.filter(open_flags_exist(), status=ConversionStatus.PENDING, test=False)
        .order_by("-created_at")
        .first()
    )
    # name: (path, whole page or only the first screen)
    pages = {
        "dashboard.png": ("/admin/", True),
        "program.png": (f"/admin/stores/program/{program.pk}/change/", True),
        "overview.png": ("/admin/conversions/conversion/overview/", True),
        "conversion.png": (f"/admin/conversions/conversion/{conversion.pk}/change/", True),
        "conversions.png": ("/admin/conversions/conversion/", False),
        "needs_review.png": ("/admin/conversions/conversionforreview/", False),
        "flagged_conversion.png": (f"/admin/conversions/conversion/{flagged.pk}/change/", True),
        "claims.png": ("/admin/conversions/claim/", False),
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
