from django.core.management.base import BaseCommand, CommandError

from partners.models import Partner
from partners.services import issue_partner_token
from retrack.audit.models import AuditAction
from retrack.audit.services import command_actor, record_audit_event
from stores.models import Store
from stores.services import issue_store_token


class Command(BaseCommand):
    help = "Issue an API token for a store or a partner and print it once."

    def add_arguments(self, parser):
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--store", help="The store's name.")
        owner.add_argument("--partner", help="The partner's name.")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args, store: str | None, partner: str | None, name: str, **options):
        if store is not None:
            owner = Store.objects.filter(name=store).first()
            if owner is None:
                raise CommandError(f"No store is named {store!r}.")
            token, secret = issue_store_token(owner, name=name)
        else:
            owner = Partner.objects.filter(name=partner).first()
            if owner is None:
                raise CommandError(f"No partner is named {partner!r}.")
            token, secret = issue_partner_token(owner, name=name)
        record_audit_event(
            AuditAction.TOKEN_ISSUED_BY_COMMAND,
            actor=command_actor("create_token"),
            target=f"{token.prefix}… ({owner})",
            details={"kind": "store" if store is not None else "partner", "name": name},
        )
        self.stderr.write(f"Token {token.prefix}… for {owner}. It is shown once; keep it safe:")
        self.stdout.write(secret)
