from django.urls import path

from conversions.tag import views

app_name = "tag"

urlpatterns = [
    path("retrack.js", views.retrack_js, name="script"),
    path("conversion", views.conversion, name="conversion"),
    path("pixel", views.pixel, name="pixel"),
]
