from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from conversions.admin_home import admin_home

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # The admin's home is the dashboard (above the app list); the rest is the admin's own.
    path("admin/", admin.site.admin_view(admin_home)),
    path("admin/", admin.site.urls),
    path("track/v2/", include("clicks.urls")),
    path("track/v2/", include("conversions.tag.urls")),
    path("api/v2/partner/", include("partners.api.urls")),
    path("api/v2/", include("conversions.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves the page's script as a file of its own, for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

# Under /api/ even Django's own 404 and 500 pages answer in the contract's error shape.
handler404 = "retrack.api.errors.page_not_found"
handler500 = "retrack.api.errors.server_error"
