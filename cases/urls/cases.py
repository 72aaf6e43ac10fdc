from django.urls import include, path

from cases.views import actions, case_list, communications, dashboard, markdown_preview, pages, reports, search

app_name = "cases"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("cases/", case_list.case_list, name="list"),
    path("cases/bulk/", case_list.bulk_action, name="bulk"),
    path("cases/search/", search.search, name="search"),
    path("cases/new/", pages.case_new, name="new"),
    path("markdown/preview/", markdown_preview.markdown_preview, name="markdown-preview"),
    path("cases/<str:reference>/", include([
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
    ])),
]
