from django.urls import include, path

from cases.views import portal, reports

app_name = "portal"

urlpatterns = [
    path("", portal.index, name="index"),
    path("incidents/<str:reference>/", include([
        path("", portal.incident, name="incident"),
        path("acknowledge/", portal.acknowledge_incident, name="acknowledge"),
        path("report.pdf", reports.customer_report, name="report"),
    ])),
]
