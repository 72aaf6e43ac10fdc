from django.urls import path

from cases.views import portal

app_name = "portal"

urlpatterns = [
    path("", portal.index, name="index"),
]
