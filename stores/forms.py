"""Back-office forms for onboarding a program.

The rules a program and its events must follow are the models' own (`stores.rules`,
run by `Program.clean()` and `Event.clean()`), the same that `onboard` applies; these
forms only turn what an operator types into the models' values.
"""

from django import forms

from conversions.models import Conversion
from stores.models import PROGRAM_TRUST_FIELDS, Event, Program
from stores.rules import MAX_DAYS


class AllowedDomainsField(forms.CharField):
    """The program's allowed domains as a text area, one host name (or host:port) per line."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]


class ProgramForm(forms.ModelForm):
    allowed_domains = AllowedDomainsField(
        # Not required here: the program's rules say what an empty list lacks.
        required=False,
        help_text="One per line. A deeplink, the landing URL and the redirect page must be on "
        "one of these hosts or a subdomain of one.",
    )
    landing_url = forms.URLField(
        max_length=2048,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField wide"}),
        help_text="Where a click lands when it has no acceptable deeplink.",
    )
    redirect_page_url = forms.URLField(
        max_length=2048,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField wide"}),
        required=False,
        help_text="The store's page that saves the click in its cookie; empty: clicks go "
        "straight to the deeplink.",
    )
    # A new program starts from the model's defaults (30 and 45 days).
    attribution_days = forms.IntegerField(
        initial=Program._meta.get_field("attribution_days").default,
        min_value=0,
        max_value=MAX_DAYS,
        help_text="How many days old a click may be when its conversion arrives.",
    )
    validation_days = forms.IntegerField(
        initial=Program._meta.get_field("validation_days").default,
        min_value=0,
        max_value=MAX_DAYS,
        help_text="Pending conversions are approved automatically after this many days.",
    )
    claim_days = forms.IntegerField(
        min_value=0,
        max_value=MAX_DAYS,
        initial=90,
        help_text="How many days after an order a partner may still claim it as missed.",
    )

    class Meta:
        model = Program
        fields = [
            "store",
            "name",
            "status",
            "currency",
            "landing_url",
            "allowed_domains",
            "redirect_page_url",
            "attribution_days",
            "validation_days",
            "claim_days",
            *PROGRAM_TRUST_FIELDS,
        ]

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        changed = self.instance.pk and currency != self.instance.currency
        if changed and Conversion.objects.filter(program=self.instance).exists():
            raise forms.ValidationError(
                "The currency cannot change once the program has conversions: "
                "they are all in %(currency)s.",
                params={"currency": self.instance.currency},
            )
        return currency


class EventForm(forms.ModelForm):
    """An event with exactly one of a percentage (0-100) or a fixed amount (minor units, ≥ 0)."""

    class Meta:
        model = Event
        fields = ["name", "kind", "percent", "fixed_amount"]
