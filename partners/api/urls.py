from django.urls import path

from partners.api import views

app_name = "partner_api"

urlpatterns = [
    path("conversions", views.ConversionFeedView.as_view(), name="conversions"),
    path("programs", views.ProgramListView.as_view(), name="programs"),
    path("webhooks", views.WebhookEndpointListView.as_view(), name="webhooks"),
    path("webhooks/<uuid:endpoint_uuid>", views.WebhookEndpointView.as_view(), name="webhook"),
    path(
        "webhooks/<uuid:endpoint_uuid>/deliveries",
        views.WebhookDeliveryListView.as_view(),
        name="webhook-deliveries",
    ),
]
