"""Back-office forms for onboarding a program, with the onboarding document's rules."""

import re

from django import forms

from conversions.models import Conversion
from retrack.lib.urls import allowed_http_url, split_allowed_domain
from stores.models import Event, Program
from stores.onboarding import MAX_DAYS, parse_percent

_CURRENCY = re.compile(r"[A-Z]{3}")


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

    def validate(self, value: list[str]) -> None:
        if not value:
            raise forms.ValidationError("Enter at least one domain, one per line.")
        bad = [entry for entry in value if split_allowed_domain(entry) is None]
        if bad:
            raise forms.ValidationError(
                "Not a valid host name: %(hosts)s. Write one per line, e.g. store.example.",
                params={"hosts": ", ".join(bad)},
            )


class ProgramForm(forms.ModelForm):
    allowed_domains = AllowedDomainsField(
        help_text="One per line. A deeplink, the landing URL and the redirect page must be on "
        "one of these hosts or a subdomain of one."
    )
    landing_url = forms.URLField(
        max_length=2048,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField", "style": "width: 40em"}),
        help_text="Where a click lands when it has no acceptable deeplink.",
    )
    redirect_page_url = forms.URLField(
        max_length=2048,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField", "style": "width: 40em"}),
        required=False,
        help_text="The store's page that saves the click in its cookie; empty: clicks go "
        "straight to the deeplink.",
    )
    attribution_days = forms.IntegerField(
        min_value=0,
        max_value=MAX_DAYS,
        help_text="How many days old a click may be when its conversion arrives.",
    )
    validation_days = forms.IntegerField(
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
        ]

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if not _CURRENCY.fullmatch(currency):
            raise forms.ValidationError("Enter a three-letter ISO-4217 code, such as SEK.")
        changed = self.instance.pk and currency != self.instance.currency
        if changed and Conversion.objects.filter(program=self.instance).exists():
            raise forms.ValidationError(
                "The currency cannot change once the program has conversions: "
                "they are all in %(currency)s.",
                params={"currency": self.instance.currency},
            )
        return currency

    def clean(self):
        cleaned = super().clean()
        domains = cleaned.get("allowed_domains")
        if not domains:
            return cleaned
        listed = ", ".join(domains)
        landing_url = cleaned.get("landing_url")
        if landing_url and allowed_http_url(landing_url, domains) is None:
            self.add_error(
                "landing_url",
                f"The landing URL must be an http(s) URL on one of the allowed domains ({listed}).",
            )
        redirect_page_url = cleaned.get("redirect_page_url")
        if redirect_page_url and allowed_http_url(redirect_page_url, domains) is None:
            self.add_error(
                "redirect_page_url",
                f"The redirect page must be an http(s) URL on one of the allowed domains "
                f"({listed}).",
            )
        return cleaned


class EventForm(forms.ModelForm):
    """An event with exactly one of a percentage (0-100) or a fixed amount (minor units, ≥ 0)."""

    class Meta:
        model = Event
        fields = ["name", "kind", "percent", "fixed_amount"]

    def clean(self):
        cleaned = super().clean()
        percent = cleaned.get("percent")
        fixed_amount = cleaned.get("fixed_amount")
        if "percent" in self.errors or "fixed_amount" in self.errors:
            return cleaned
        if percent is not None and fixed_amount is not None:
            self.add_error("percent", "Give either a percentage or a fixed amount, not both.")
        elif percent is None and fixed_amount is None:
            self.add_error("percent", "Give a percentage or a fixed amount.")
        elif percent is not None and parse_percent(str(percent)) is None:
            self.add_error(
                "percent", "A percentage must be from 0 to 100, with at most 3 decimals."
            )
        elif fixed_amount is not None and fixed_amount < 0:
            self.add_error(
                "fixed_amount",
                "A fixed amount cannot be negative (minor units: 4000 means 40.00).",
            )
        return cleaned
