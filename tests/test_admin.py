"""Django admin: every model is listed with working columns, filters and search; lifecycle rules hold there too."""

import pytest
from django.contrib import admin as django_admin
from django.urls import reverse

from cases.models import Case, TimelineEvent
from tests.factories import case_in_stage


@pytest.fixture
def populated(manager, contoso_user):
    """Return a case with rows for the changelists to render: its timeline, a staff notice, a webhook."""
    from notifications.models import Notification
    from notifications.services.outbox import notify_staff
    from notifications.services.webhooks import create_endpoint

    case = case_in_stage(Case.Status.STABILIZING, manager=manager)
    notify_staff(kind=Notification.Kind.CASE_ASSIGNED, users=[manager], title=f"{case.reference} needs you", case=case)
    create_endpoint(organization=contoso_user.organization, url="https://hooks.contoso.example/irt")
    return case


def registered_models():
    return list(django_admin.site._registry)


def test_every_project_app_has_its_models_in_the_admin():
    assert {"cases", "notifications", "auth"} <= {model._meta.app_label for model in registered_models()}


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_admin_lists_and_searches_every_model(client, admin, populated, model):
    client.force_login(admin)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client.get(url)
    assert response.status_code == 200
    if model._default_manager.exists():  # the columns were rendered for real rows, not an empty page
        assert b'id="result_list"' in response.content
    assert client.get(url, {"q": "IRT"}).status_code == 200


@pytest.mark.parametrize("url_name", ["admin:index", "admin:login", "admin:cases_case_changelist"])
def test_admin_answers_403_to_signed_in_users_without_admin_rights(client, manager, contoso_user, url_name):
    for user in (manager, contoso_user):
        client.force_login(user)
        # Not a redirect to a login page that would send a signed-in user straight back here.
        response = client.get(reverse(url_name), follow=True)
        assert response.status_code == 403 and response.redirect_chain == []


def test_admin_sends_signed_out_visitors_to_the_sites_sign_in(client, db):
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 200 and response.request["PATH_INFO"] == reverse("login")


def test_admin_close_action_goes_through_the_lifecycle_guards(client, admin, populated):
    client.force_login(admin)
    response = client.post(
        reverse("admin:cases_case_changelist"),
        {"action": "lifecycle_close", "_selected_action": [populated.pk]},
        follow=True,
    )
    assert response.status_code == 200
    populated.refresh_from_db()
    assert populated.status == Case.Status.STABILIZING
    assert "Write the post-incident review" in response.content.decode()
    assert TimelineEvent.objects.filter(case=populated, kind=TimelineEvent.Kind.REFUSED).exists()


def test_admin_stage_field_is_read_only(client, admin, populated):
    client.force_login(admin)
    url = reverse("admin:cases_case_change", args=[populated.pk])
    response = client.post(url, {"title": "Renamed in admin", "status": "closed", "source": populated.source,
                                 "severity": populated.severity, "classification": "", "breach_category": "none",
                                 "scope": populated.scope, "internal_summary": "",
                                 **{f"{prefix}-{key}": 0 for prefix in ("tasks", "affected_customers")
                                    for key in ("TOTAL_FORMS", "INITIAL_FORMS")}})
    assert response.status_code == 302
    populated.refresh_from_db()
    assert populated.status == Case.Status.STABILIZING
    assert populated.title == "Renamed in admin"
    assert TimelineEvent.objects.filter(case=populated, kind=TimelineEvent.Kind.DETAILS_CHANGED, actor=admin).exists()


def test_admin_site_is_django_otps_site_under_the_admin_namespace():
    from django_otp.admin import OTPAdminSite

    assert isinstance(django_admin.site, OTPAdminSite) and django_admin.site.name == "admin"


def test_role_audit_records_a_flag_change_and_nothing_when_roles_stay_the_same(responder, admin):
    from cases.models import SecurityEvent
    from cases.services import security_log

    before = security_log.Roles.of(responder)
    assert security_log.record_role_changes(user=responder, before=before, actor=admin) is None
    responder.is_staff = True
    responder.save(update_fields=["is_staff"])
    event = security_log.record_role_changes(user=responder, before=before, actor=admin)
    assert (event.kind, event.detail, event.actor) == (SecurityEvent.Kind.PERMISSIONS_CHANGED, "is_staff: False → True", admin)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PERMISSIONS_CHANGED).count() == 1
