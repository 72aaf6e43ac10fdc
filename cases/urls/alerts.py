from django.urls import path

from cases.views import alerts

app_name = "alerts"

urlpatterns = [
    path("", alerts.queue, name="queue"),
    path("groups/<int:group_id>/", alerts.group_detail, name="group"),
    path("groups/<int:group_id>/promote/", alerts.promote, name="promote"),
    path("groups/<int:group_id>/attach/", alerts.attach, name="attach"),
    path("groups/<int:group_id>/dismiss/", alerts.dismiss, name="dismiss"),
    path("observables/<int:observable_id>/", alerts.observable_detail, name="observable"),
]
