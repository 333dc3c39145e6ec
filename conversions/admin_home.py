"""The back office's home page: the dashboard above Django's list of apps.

`admin_home` answers /admin/ in place of `AdminSite.index` (see retrack/urls.py) and hands
the dashboard to it as extra context, so the page keeps the admin's own app list, links and
permission checks; the figures come from `conversions.dashboard`.
"""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from conversions.claims.selectors import count_open_claims
from conversions.dashboard import (
    Row,
    count_needing_review,
    integration_health,
    operator_dashboard,
    percent_change,
)
from conversions.forms import DashboardForm
from conversions.models import ConversionStatus
from conversions.reports import daily_charts
from retrack.lib.money import format_money


@dataclass
class Attention:
    """A count of things waiting for an operator, and the list where they wait."""

    label: str
    count: int
    url: str


def attention_items(request: HttpRequest, program, partner) -> list[Attention]:
    """Conversions needing review and open claims (of the selection), each linked to its
    admin list narrowed the same way; a list the user may not view is left out."""
    narrowed = {}
    if program is not None:
        narrowed["program__id__exact"] = program.pk
    if partner is not None:
        narrowed["partner__id__exact"] = partner.pk
    query = f"?{urlencode(narrowed)}" if narrowed else ""
    items = []
    if request.user.has_perm("conversions.view_conversionforreview"):
        items.append(
            Attention(
                "Conversions needing review",
                count_needing_review(program, partner),
                reverse("admin:conversions_conversionforreview_changelist") + query,
            )
        )
    if request.user.has_perm("conversions.view_claim"):
        items.append(
            Attention(
                "Open claims",
                count_open_claims(program, partner),
                reverse("admin:conversions_claim_changelist") + query,
            )
        )
    return items


@dataclass
class Metric:
    """One headline figure: its value in the period and the one before, and the change."""

    label: str
    current: str
    previous: str
    change: Decimal | None


def headline_metrics(row: Row) -> list[Metric]:
    """The dashboard's headline figures for a row; money ones once per currency."""
    now, before = row.current, row.previous
    metrics = [
        Metric("Clicks", str(now.clicks), str(before.clicks), row.change("clicks")),
        Metric("Bot clicks (not counted)", str(now.bot_clicks), str(before.bot_clicks), None),
        Metric(
            "Conversions", str(now.conversions), str(before.conversions), row.change("conversions")
        ),
        Metric(
            "Conversion rate",
            _percent(now.conversion_rate),
            _percent(before.conversion_rate),
            percent_change(now.conversion_rate, before.conversion_rate),
        ),
    ]
    currencies = sorted(set(now.commission) | set(before.commission))
    for currency in currencies:
        for status in ConversionStatus:
            metrics.append(
                _money_metric(
                    f"Commission {status.label.lower()}",
                    currency,
                    now.commission_in(status).get(currency, 0),
                    before.commission_in(status).get(currency, 0),
                )
            )
        for label, figure in [
            ("Average order value", "average_order_value"),
            ("EPC (earnings per click)", "earnings_per_click"),
        ]:
            metrics.append(
                _money_metric(
                    label,
                    currency,
                    getattr(now, figure).get(currency),
                    getattr(before, figure).get(currency),
                )
            )
    return metrics


def _money_metric(label: str, currency: str, current: int | None, previous: int | None):
    return Metric(
        f"{label} ({currency})",
        format_money(current, currency),
        format_money(previous, currency),
        percent_change(current, previous),
    )


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}\u00a0%"


def dashboard_context(request: HttpRequest) -> dict:
    """The dashboard's part of the home page's context; empty for a user who may not see it."""
    if not request.user.has_perm("conversions.view_conversion"):
        return {}
    now = timezone.now()
    form = DashboardForm(request.GET, today=now.date())
    context = {"dashboard_form": form}
    if form.is_valid():
        data = form.cleaned_data
        period = {"days": data["days"] or ""}
        if not data["days"]:
            period.update(start=data["start"].isoformat(), end=data["end"].isoformat())
        dashboard = operator_dashboard(
            data["start"], data["end"], program=data["program"], partner=data["partner"]
        )
        context.update(
            dashboard=dashboard,
            period_query=urlencode(period),
            metrics=headline_metrics(dashboard.total),
            charts=daily_charts(dashboard.daily),
            dashboard_tables=[("program", dashboard.programs), ("partner", dashboard.partners)],
            health=integration_health(now),
            attention=attention_items(request, data["program"], data["partner"]),
        )
    return context


def admin_home(request: HttpRequest) -> HttpResponse:
    return admin.site.index(request, extra_context=dashboard_context(request))
