import json
import sys

from django.core.management.base import BaseCommand, CommandError

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
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
