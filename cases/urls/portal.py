from django.urls import path

from cases.views import portal

app_name = "portal"

urlpatterns = [
    path("", portal.index, name="index"),
    path("incidents/<str:reference>/", portal.incident, name="incident"),
    path("incidents/<str:reference>/acknowledge/", portal.acknowledge_incident, name="acknowledge"),
]
