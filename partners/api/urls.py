from django.urls import path

from conversions.claims import views as claim_views
from partners.api import views

app_name = "partner_api"

urlpatterns = [
    path("conversions", views.ConversionFeedView.as_view(), name="conversions"),
    path("conversions/<uuid:uuid>", views.ConversionDetailView.as_view(), name="conversion-detail"),
    path("claims", claim_views.PartnerClaimsView.as_view(), name="claims"),
    path("claims/<uuid:uuid>", claim_views.PartnerClaimDetailView.as_view(), name="claim-detail"),
    path("stats", views.StatsView.as_view(), name="stats"),
    path("programs", views.ProgramListView.as_view(), name="programs"),
    path("webhooks", views.WebhookEndpointListView.as_view(), name="webhooks"),
    path("webhooks/<uuid:endpoint_uuid>", views.WebhookEndpointView.as_view(), name="webhook"),
    path(
        "webhooks/<uuid:endpoint_uuid>/deliveries",
        views.WebhookDeliveryListView.as_view(),
        name="webhook-deliveries",
    ),
]
