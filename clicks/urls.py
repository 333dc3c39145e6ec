from django.urls import path

from clicks import views

app_name = "clicks"

urlpatterns = [
    path("click", views.track_click, name="click"),
]
