from django.urls import path

from conversions.api import integration, views
from conversions.claims import views as claim_views

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
    path("test-clicks", integration.TestClicksView.as_view(), name="test-clicks"),
    path("reports", integration.ReportsView.as_view(), name="reports"),
    path("claims", claim_views.StoreClaimsView.as_view(), name="claims"),
    path("claims/<uuid:uuid>", claim_views.StoreClaimDetailView.as_view(), name="claim-detail"),
]
