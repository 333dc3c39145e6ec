from django.urls import path

from partners.api import views

app_name = "partner_api"

urlpatterns = [
    path("conversions", views.ConversionFeedView.as_view(), name="conversions"),
    path("programs", views.ProgramListView.as_view(), name="programs"),
]
