from django.urls import path

from cases.views import clocks

app_name = "clocks"

urlpatterns = [
    path("cases/<str:reference>/clocks/decisions/", clocks.record_decision, name="decision"),
    path("cases/<str:reference>/clocks/<int:deadline_id>/submissions/", clocks.record_submission, name="submission"),
    path("cases/<str:reference>/clocks/<int:deadline_id>/close-anyway/", clocks.close_override, name="close-override"),
]
