from django.urls import path

from cases.views import actions, communications, pages

app_name = "cases"

urlpatterns = [
    path("", pages.dashboard, name="dashboard"),
    path("cases/", pages.case_list, name="list"),
    path("cases/new/", pages.case_new, name="new"),
    path("cases/<str:reference>/", pages.case_detail, name="detail"),
    path("cases/<str:reference>/edit/", pages.case_edit, name="edit"),
    path("cases/<str:reference>/review/", pages.review_edit, name="review"),
    path("cases/<str:reference>/review/approve/", actions.approve_review, name="review-approve"),
    path("cases/<str:reference>/actions/<slug:action>/", actions.transition, name="transition"),
    path("cases/<str:reference>/declare-breach/", actions.declare_breach, name="declare-breach"),
    path("cases/<str:reference>/owner/", actions.set_owner, name="owner"),
    path("cases/<str:reference>/members/", actions.add_member, name="member-add"),
    path("cases/<str:reference>/members/<str:username>/remove/", actions.remove_member, name="member-remove"),
    path("cases/<str:reference>/notes/", actions.add_note, name="note-add"),
    path("cases/<str:reference>/tasks/", actions.add_task, name="task-add"),
    path("cases/<str:reference>/tasks/<int:task_id>/toggle/", actions.toggle_task, name="task-toggle"),
    path("cases/<str:reference>/customers/", actions.add_customer, name="customer-add"),
    path("cases/<str:reference>/customers/<int:row_id>/edit/", actions.edit_customer, name="customer-edit"),
    path("cases/<str:reference>/customers/<int:row_id>/confirm/", actions.confirm_customer, name="customer-confirm"),
    path("cases/<str:reference>/customers/<int:row_id>/withdraw/", actions.withdraw_customer, name="customer-withdraw"),
    path("cases/<str:reference>/customers/<int:row_id>/notices/", actions.record_notice, name="notice-record"),
    path("cases/<str:reference>/notices/<int:notice_id>/approve/", actions.approve_notice, name="notice-approve"),
    path("cases/<str:reference>/deadlines/<int:deadline_id>/delay/", actions.request_delay, name="delay-request"),
    path("cases/<str:reference>/delays/<int:delay_id>/approve/", actions.approve_delay, name="delay-approve"),
    path("cases/<str:reference>/updates/new/", communications.update_new, name="update-new"),
    path("cases/<str:reference>/updates/<int:update_id>/approve/", communications.update_approve, name="update-approve"),
    path("cases/<str:reference>/customer-review/", communications.public_review_edit, name="public-review"),
    path("cases/<str:reference>/customer-review/approve/", communications.public_review_approve, name="public-review-approve"),
    path("cases/<str:reference>/repairs/", communications.repair_add, name="repair-add"),
    path("cases/<str:reference>/repairs/<int:item_id>/status/", communications.repair_status, name="repair-status"),
]
