"""Forms that respect the person typing: stale edits say what changed and keep the text; sensible defaults."""

import pytest
from django.urls import reverse

from cases.models import Case
from cases.services import cases as case_services
from tests.factories import case_in_stage

pytestmark = pytest.mark.django_db


def details(case, **changes):
    return {"version": case.version, "title": case.title, "source": case.source, "severity": case.severity,
            "classification": case.classification, "breach_category": case.breach_category, "scope": case.scope,
            "services": [s.pk for s in case.affected_services.all()], "internal_summary": case.internal_summary, **changes}


def test_a_stale_edit_says_what_changed_and_keeps_the_typed_text(client, manager, second_manager):
    case = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    seen = details(case, internal_summary="My careful three-paragraph analysis.")
    case_services.update_case_details(case=case, by=second_manager, changes={"title": "Renamed by someone else"}, services=None)
    client.force_login(manager)
    response = client.post(reverse("cases:edit", args=[case.reference]), seen)
    html = response.content.decode()
    assert response.status_code == 409
    assert "changed while you were editing it" in html and second_manager.display_name in html
    assert "now diagnosing" not in html, "only details changed: the stage is not news"
    assert "My careful three-paragraph analysis." in html, "the typed text is kept"
    case.refresh_from_db()
    assert case.internal_summary != "My careful three-paragraph analysis."
    # Saving again, on the version now shown, goes through.
    assert f'name="version" value="{case.version}"' in html
    assert client.post(reverse("cases:edit", args=[case.reference]),
                       {**seen, "version": case.version, "title": case.title}).status_code == 302


def test_the_opener_is_the_default_owner_when_they_may_own_cases(client, responder):
    client.force_login(responder)
    form = client.get(reverse("cases:new")).context["form"]
    assert form["owner"].value() == responder.pk
    assert responder.pk in [user.pk for user in form.fields["owner"].queryset]


def test_a_date_error_repeats_the_expected_format(client, responder):
    client.force_login(responder)
    response = client.post(reverse("cases:new"), {"title": "Odd logins", "source": "alert", "detected_at": "yesterday"})
    assert response.status_code == 400
    assert "YYYY-MM-DD HH:MM (UTC), for example 2026-11-29 08:15" in response.content.decode()
