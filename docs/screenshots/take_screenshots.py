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
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retrack.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402

from clicks.models import Click  # noqa: E402
from conversions.models import Conversion  # noqa: E402
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
    """The demo (stores, a month of traffic, conversions in every state) and an operator."""
    call_command("seed_demo", stdout=io.StringIO())
    user, _ = get_user_model().objects.get_or_create(username=OPERATOR, is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=OPERATOR_GROUP))
    print(f"Seeded {Click.objects.count()} clicks and {Conversion.objects.count()} conversions.")


def shoot(base_url: str) -> None:
    """Log in as the operator and capture the dashboard, a program, the overview and a
    conversion."""
    from playwright.sync_api import sync_playwright

    program = Program.objects.get(name="Awesome Store SE (demo)")
    conversion = (
        Conversion.objects.filter(
            program=program, kind=EventKind.TRANSACTION, status="pending", lines__position=1
        )
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
