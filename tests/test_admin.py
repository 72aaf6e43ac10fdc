"""Django admin: every model is listed with working columns, filters and search; lifecycle rules hold there too."""

import pytest
from django.contrib import admin as django_admin
from django.urls import reverse

from cases.models import Case, TimelineEvent
from tests.factories import case_in_stage


@pytest.fixture
def populated(manager, contoso_user):
    return case_in_stage(Case.Status.STABILIZING, manager=manager)


def registered_models():
    return [model for model in django_admin.site._registry if model._meta.app_label in ("cases", "auth")]


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_admin_lists_and_searches_every_model(client, admin, populated, model):
    client.force_login(admin)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
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
