"""Back-office forms: the reason for a rejection, and the overview's and dashboard's period."""

from datetime import date, timedelta

from django import forms

from conversions.dashboard import PERIOD_DAYS
from conversions.payloads import REASON_MAX_LENGTH
from conversions.reports import MAX_REPORT_DAYS
from partners.models import Partner
from retrack.lib.validation import validate_text
from stores.models import Program

DEFAULT_REPORT_DAYS = 30


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=REASON_MAX_LENGTH,
        validators=[validate_text],
        help_text="Shown to the partner in its feed and kept in each conversion's history.",
        error_messages={"required": "Give the reason for the rejection."},
    )


class ReportForm(forms.Form):
    start = forms.DateField(label="From", help_text="YYYY-MM-DD, UTC")
    end = forms.DateField(label="To", help_text="YYYY-MM-DD, UTC, included")
    program = forms.ModelChoiceField(
        queryset=Program.objects.select_related("store"),
        required=False,
        empty_label="All programs",
    )

    @classmethod
    def for_query(cls, data, today: date) -> "ReportForm":
        """The form bound to the query string, defaulting to the last 30 days up to today."""
        values = {
            "start": (today - timedelta(days=DEFAULT_REPORT_DAYS - 1)).isoformat(),
            "end": today.isoformat(),
            **{key: data[key] for key in ("start", "end", "program") if data.get(key)},
        }
        return cls(values)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The period ends before it starts.")
            elif (end - start).days >= MAX_REPORT_DAYS:
                self.add_error("end", f"A report covers at most {MAX_REPORT_DAYS} days.")
        return cleaned


class DashboardForm(forms.Form):
    """The dashboard's period (the last 7, 30 or 90 days, or from–to) and its scope."""

    days = forms.TypedChoiceField(
        label="Period",
        choices=[(str(days), f"Last {days} days") for days in PERIOD_DAYS] + [("", "From–to")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    start = forms.DateField(label="From", required=False, help_text="YYYY-MM-DD, UTC")
    end = forms.DateField(label="To", required=False, help_text="YYYY-MM-DD, UTC, included")
    program = forms.ModelChoiceField(
        queryset=Program.objects.select_related("store"), required=False, empty_label="All programs"
    )
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.all(), required=False, empty_label="All partners"
    )

    def __init__(self, data, *, today: date) -> None:
        keys = ("days", "start", "end", "program", "partner")
        values = {key: data[key] for key in keys if data.get(key)}
        if not values.get("start") and not values.get("end"):
            values.setdefault("days", str(DEFAULT_REPORT_DAYS))
        super().__init__(values)
        self.today = today

    def clean(self):
        cleaned = super().clean()
        days, start, end = cleaned.get("days"), cleaned.get("start"), cleaned.get("end")
        if self.errors:
            return cleaned
        if days:
            cleaned["start"], cleaned["end"] = self.today - timedelta(days=days - 1), self.today
        elif not (start and end):
            self.add_error("end" if start else "start", "Give both days of the period.")
        elif end < start:
            self.add_error("end", "The period ends before it starts.")
        elif (end - start).days >= MAX_REPORT_DAYS:
            self.add_error("end", f"A period covers at most {MAX_REPORT_DAYS} days.")
        return cleaned


class ClearFlagsForm(forms.Form):
    reason = forms.CharField(
        label="Why it is fine",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=REASON_MAX_LENGTH,
        help_text="Kept in each conversion's history. Cleared conversions are approved "
        "automatically when their validation period has passed, unless rejected.",
        error_messages={"required": "Say why the flags can be cleared."},
    )
