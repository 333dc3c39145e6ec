"""Back-office forms: the reason for a rejection, and the overview's period."""

from datetime import date, timedelta

from django import forms

from conversions.payloads import REASON_MAX_LENGTH
from conversions.reports import MAX_REPORT_DAYS
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
