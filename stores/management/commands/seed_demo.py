import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from partners.models import Partner
from partners.services import issue_partner_token
from stores.models import Program, Store
from stores.onboarding import onboard
from stores.roles import ensure_roles
from stores.services import issue_store_token

DEMO_DOCUMENT = Path(__file__).resolve().parents[2] / "fixtures" / "demo_onboarding.json"
DEMO_ADMIN = "admin"


class Command(BaseCommand):
    help = "Onboard the demo stores and partner, create the admin user, print how to start."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        document = json.loads(DEMO_DOCUMENT.read_text(encoding="utf-8"))
        onboard(document)
        ensure_roles()
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=DEMO_ADMIN)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        partner = Partner.objects.get(name="Refunder SE")
        _, partner_token = issue_partner_token(partner, name="demo")
        _, store_token = issue_store_token(Store.objects.get(name="Awesome Store"), name="demo")
        base = settings.RETRACK_PUBLIC_URL
        lines = [
            "Demo data is in place.",
            f"  Admin:         {base}/admin/  user {DEMO_ADMIN!r}, password {password!r}",
        ]
        for program in Program.objects.filter(admissions__partner=partner).order_by("name"):
            lines.append(
                f"  Tracking link: {base}/track/v2/click?publisher={partner.uuid}"
                f"&program={program.uuid}&ref=demo-1  ({program.name})"
            )
        lines += [
            f"  Store token (Awesome Store): {store_token}",
            f"  Partner token (Refunder SE): {partner_token}",
        ]
        self.stdout.write("\n".join(lines))
