from django.conf import settings
from django.core.management.base import BaseCommand

from stores.demo import DEMO_ADMIN, DEMO_PARTNER, DEMO_STORE, DEMO_TOKEN_NAME, seed_demo


class Command(BaseCommand):
    help = (
        "Onboard the demo stores and partner with a few weeks of traffic, create the admin "
        "user and demo tokens (once), and print how to start. Safe to run again."
    )

    def handle(self, *args, **options) -> None:
        seeded = seed_demo()
        base = settings.RETRACK_PUBLIC_URL
        if seeded.admin_password is not None:
            admin = f"password {seeded.admin_password!r} (shown this once)"
        else:
            admin = "password unchanged"
        lines = [
            "Demo data is in place.",
            f"  Admin:         {base}/admin/  user {DEMO_ADMIN!r}, {admin};"
            f" reset it with: python manage.py changepassword {DEMO_ADMIN}",
        ]
        for program in seeded.programs:
            lines.append(
                f"  Tracking link: {base}/track/v2/click?publisher={seeded.partner.uuid}"
                f"&program={program.uuid}&ref=demo-1  ({program.name})"
            )
        lines += [
            _token_line("Store token", DEMO_STORE, "--store", seeded.store_token),
            _token_line("Partner token", DEMO_PARTNER, "--partner", seeded.partner_token),
        ]
        for name, clicks, conversions in seeded.traffic:
            lines.append(f"  Demo traffic:  {clicks} clicks, {conversions} conversions ({name})")
        self.stdout.write("\n".join(lines))


def _token_line(label: str, owner: str, option: str, secret: str | None) -> str:
    if secret is not None:
        return f"  {label} ({owner}): {secret}  (shown this once)"
    # Tokens are stored only as a hash: the one issued on the first run cannot be shown again.
    return (
        f"  {label} ({owner}): issued on the first run and shown then; for another:"
        f' python manage.py create_token {option} "{owner}" --name {DEMO_TOKEN_NAME}'
    )
