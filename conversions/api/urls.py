from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from conversions.api import views
from retrack.api.errors import json_error_view

app_name = "conversions-api"

urlpatterns = [
    path("transactions", views.TransactionsView.as_view(), name="transactions"),
    path(
        "transactions/<uuid:uuid>",
        views.TransactionDetailView.as_view(),
        name="transaction-detail",
    ),
    path("leads", views.LeadsView.as_view(), name="leads"),
    path("leads/<uuid:uuid>", views.LeadDetailView.as_view(), name="lead-detail"),
    # Last: any other path under /api/v2/ answers 404 in the contract's shape, not HTML.
    re_path(
        r"^",
        csrf_exempt(json_error_view(404, "not_found", "No such API call.")),
        name="not-found",
    ),
]
