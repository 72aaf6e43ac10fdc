from django.urls import include, path

from cases.views import playbooks

app_name = "playbooks"

urlpatterns = [
    path("playbooks/", include([
        path("", playbooks.playbook_list, name="list"),
        path("new/", playbooks.playbook_edit, name="new"),
        path("<slug:slug>/", playbooks.playbook_detail, name="detail"),
        path("<slug:slug>/edit/", playbooks.playbook_edit, name="edit"),
    ])),
    path("cases/<str:reference>/playbook/", playbooks.apply, name="apply"),
    path("cases/<str:reference>/tasks/<int:task_id>/skip/", playbooks.skip_step, name="skip-step"),
]
