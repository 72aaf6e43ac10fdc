from django.urls import path

from cases.views import clocks

app_name = "clocks"

urlpatterns = [
    path("decisions/", clocks.record_decision, name="decision"),
    path("<int:deadline_id>/submissions/", clocks.record_submission, name="submission"),
    path("<int:deadline_id>/close-anyway/", clocks.close_override, name="close-override"),
]
