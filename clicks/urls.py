from django.urls import path

from clicks import tag_views, views

app_name = "clicks"

urlpatterns = [
    path("click", views.track_click, name="click"),
    path("retrack.js", tag_views.retrack_js, name="tag-script"),
    path("conversion", tag_views.conversion, name="tag-conversion"),
    path("pixel", tag_views.pixel, name="tag-pixel"),
]
