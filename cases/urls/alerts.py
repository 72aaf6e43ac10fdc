from django.urls import include, path

from cases.views import alerts

app_name = "alerts"

urlpatterns = [
    path("", alerts.queue, name="queue"),
    path("groups/<int:group_id>/", include([
        path("", alerts.group_detail, name="group"),
        path("promote/", alerts.promote, name="promote"),
        path("attach/", alerts.attach, name="attach"),
        path("dismiss/", alerts.dismiss, name="dismiss"),
    ])),
    path("observables/<int:observable_id>/", alerts.observable_detail, name="observable"),
]
