"""URL patterns of the staff pages, one namespace each; irt/urls.py mounts them."""
from django.urls import include, path

from cases.views import (
    actions, alerts as alert_views, api_tokens as token_views, case_list, clocks as clock_views,
    communications, dashboard, evidence as evidence_views, markdown_preview, metrics as metric_views,
    pages, playbooks as playbook_views, questions as question_views, reports, search,
)

case_pages = [
    path("", pages.case_detail, name="detail"),
    path("report.<str:fmt>", reports.case_report, name="report"),
    path("edit/", pages.case_edit, name="edit"),
    path("review/", pages.review_edit, name="review"),
    path("review/read/", pages.review_read, name="review-read"),
    path("review/approve/", actions.approve_review, name="review-approve"),
    path("actions/<slug:action>/", actions.transition, name="transition"),
    path("declare-breach/", actions.declare_breach, name="declare-breach"),
    path("owner/", actions.set_owner, name="owner"),
    path("members/", actions.add_member, name="member-add"),
    path("members/<str:username>/remove/", actions.remove_member, name="member-remove"),
    path("notes/", actions.add_note, name="note-add"),
    path("tasks/", actions.add_task, name="task-add"),
    path("tasks/<int:task_id>/toggle/", actions.toggle_task, name="task-toggle"),
    path("customers/", actions.add_customer, name="customer-add"),
    path("customers/<int:row_id>/", include([
        path("edit/", actions.edit_customer, name="customer-edit"),
        path("confirm/", actions.confirm_customer, name="customer-confirm"),
        path("withdraw/", actions.withdraw_customer, name="customer-withdraw"),
        path("notices/", actions.record_notice, name="notice-record"),
    ])),
    path("notices/<int:notice_id>/approve/", actions.approve_notice, name="notice-approve"),
    path("deadlines/<int:deadline_id>/delay/", actions.request_delay, name="delay-request"),
    path("delays/<int:delay_id>/approve/", actions.approve_delay, name="delay-approve"),
    path("updates/new/", communications.update_new, name="update-new"),
    path("updates/<int:update_id>/", communications.update_review, name="update-review"),
    path("updates/<int:update_id>/approve/", communications.update_approve, name="update-approve"),
    path("customer-review/", communications.public_review_edit, name="public-review"),
    path("customer-review/read/", communications.public_review_read, name="public-review-read"),
    path("customer-review/approve/", communications.public_review_approve, name="public-review-approve"),
    path("repairs/", communications.repair_add, name="repair-add"),
    path("repairs/<int:item_id>/status/", communications.repair_status, name="repair-status"),
    path("questions/<int:question_id>/reply/", question_views.reply, name="question-reply"),
    path("question-replies/<int:reply_id>/approve/", question_views.approve_reply, name="question-reply-approve"),
]

cases = ([
    path("", dashboard.dashboard, name="dashboard"),
    path("cases/", case_list.case_list, name="list"),
    path("cases/bulk/", case_list.bulk_action, name="bulk"),
    path("cases/search/", search.search, name="search"),
    path("cases/new/", pages.case_new, name="new"),
    path("markdown/preview/", markdown_preview.markdown_preview, name="markdown-preview"),
    path("cases/<str:reference>/", include(case_pages)),
], "cases")

playbooks = ([
    path("playbooks/", playbook_views.playbook_list, name="list"),
    path("playbooks/new/", playbook_views.playbook_edit, name="new"),
    path("playbooks/<slug:slug>/", playbook_views.playbook_detail, name="detail"),
    path("playbooks/<slug:slug>/edit/", playbook_views.playbook_edit, name="edit"),
    path("cases/<str:reference>/playbook/", playbook_views.apply, name="apply"),
    path("cases/<str:reference>/tasks/<int:task_id>/skip/", playbook_views.skip_step, name="skip-step"),
], "playbooks")

# Mounted under cases/<reference>/clocks/.
clocks = ([
    path("decisions/", clock_views.record_decision, name="decision"),
    path("<int:deadline_id>/submissions/", clock_views.record_submission, name="submission"),
    path("<int:deadline_id>/close-anyway/", clock_views.close_override, name="close-override"),
], "clocks")

# Mounted under cases/<reference>/evidence/.
evidence = ([
    path("", evidence_views.evidence_list, name="list"),
    path("verify/", evidence_views.verify_all, name="verify-all"),
    path("export/", evidence_views.export, name="export"),
    path("legal-hold/", evidence_views.legal_hold, name="legal-hold"),
    path("<int:evidence_id>/download/", evidence_views.download, name="download"),
    path("<int:evidence_id>/verify/", evidence_views.verify, name="verify"),
    path("<int:evidence_id>/supersede/", evidence_views.supersede, name="supersede"),
], "evidence")

alerts = ([
    path("", alert_views.queue, name="queue"),
    path("groups/<int:group_id>/", alert_views.group_detail, name="group"),
    path("groups/<int:group_id>/promote/", alert_views.promote, name="promote"),
    path("groups/<int:group_id>/attach/", alert_views.attach, name="attach"),
    path("groups/<int:group_id>/dismiss/", alert_views.dismiss, name="dismiss"),
    path("observables/<int:observable_id>/", alert_views.observable_detail, name="observable"),
], "alerts")

metrics = ([
    path("", metric_views.metrics_page, name="page"),
    path("metrics.csv", metric_views.metrics_csv, name="csv"),
    path("cases/", metric_views.metrics_cases, name="cases"),
], "metrics")

api_tokens = ([
    path("", token_views.token_list, name="list"),
    path("<int:token_id>/revoke/", token_views.token_revoke, name="revoke"),
], "api_tokens")
