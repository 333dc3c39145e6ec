import json
import sys

from django.core.management.base import BaseCommand, CommandError

from retrack.audit.models import AuditAction
from retrack.audit.services import command_actor, record_audit_event
from stores.onboarding import OnboardingError, onboard


class Command(BaseCommand):
    help = "Create or update stores, programs, events, partners and admissions from a JSON file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The onboarding document (JSON); '-' reads stdin.")
        parser.add_argument(
            "--issue-tokens",
            action="store_true",
            help="Issue a fresh API token for every store and partner in the document.",
        )

    def handle(self, *args, file: str, issue_tokens: bool, **options) -> None:
        try:
            if file == "-":
                document = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    document = json.load(handle)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        except json.JSONDecodeError as error:
            raise CommandError(f"{file} is not valid JSON: {error}") from error
        try:
            result = onboard(document, issue_tokens=issue_tokens)
        except OnboardingError as error:
            raise CommandError(
                "The document was refused; nothing was written:\n- " + "\n- ".join(error.problems)
            ) from error
        record_audit_event(
            AuditAction.ONBOARD_RUN,
            actor=command_actor("onboard"),
            target=file,
            details=_summary(result, issue_tokens),
        )
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))


def _summary(result: dict, issue_tokens: bool) -> dict:
    """What the run created or updated, by name: never the tokens it printed."""
    return {
        "stores": [store["name"] for store in result.get("stores", [])],
        "programs": [
            program["name"]
            for store in result.get("stores", [])
            for program in store.get("programs", [])
        ],
        "partners": [partner["name"] for partner in result.get("partners", [])],
        "issued_tokens": issue_tokens,
    }
