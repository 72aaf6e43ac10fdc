"""The one body of the POST views: validate a form, call one service, say how it went."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import reverse

from cases.models.exceptions import ActionRefused, NotAllowed
from cases.forms.cases import VersionedForm
from cases.views.helpers import submit_form
from tests.factories import CaseFactory


class TitleForm(VersionedForm):
    title = forms.CharField(max_length=10)
    due = forms.IntegerField(required=False, label="Due in days")


def post_request(data):
    request = RequestFactory().post("/", data)
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def said(request) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in get_messages(request)]


def test_submit_form_passes_the_cleaned_data_with_the_version_as_expected_version():
    calls = []
    request = post_request({"title": " Leak ", "due": "3", "version": "7"})
    result = submit_form(request, TitleForm(request.POST), lambda **kw: calls.append(kw), success="Saved.", case="the case")
    assert calls == [{"case": "the case", "title": "Leak", "due": 3, "expected_version": 7}]
    assert result is True
    assert said(request) == [("success", "Saved.")]


def test_submit_form_returns_what_the_service_returns():
    request = post_request({"title": "Leak", "version": "1"})
    assert submit_form(request, TitleForm(request.POST), lambda **kw: "row", success="Saved.") == "row"


def test_submit_form_turns_each_field_error_into_a_labelled_message_and_calls_no_service():
    calls = []
    request = post_request({"title": "far too long a title", "due": "soon", "version": "1"})
    result = submit_form(request, TitleForm(request.POST), lambda **kw: calls.append(kw), success="Saved.")
    assert result is None and calls == []
    assert said(request) == [
        ("error", "Title: Ensure this value has at most 10 characters (it has 20)."),
        ("error", "Due in days: Enter a whole number."),
    ]


def test_submit_form_says_only_the_invalid_sentence_when_one_is_given():
    request = post_request({"version": "1"})
    result = submit_form(request, TitleForm(request.POST), lambda **kw: None, success="Saved.", invalid="Give it a title.")
    assert result is None
    assert said(request) == [("error", "Give it a title.")]


def test_submit_form_builds_the_success_message_from_the_cleaned_data():
    request = post_request({"title": "Leak", "version": "1"})
    submit_form(request, TitleForm(request.POST), lambda **kw: None, success=lambda data: f"{data['title']} saved.")
    assert said(request) == [("success", "Leak saved.")]


def test_submit_form_reports_each_reason_of_a_refusal_and_no_success():
    def refuse(**kw):
        raise ActionRefused(["The case is closed.", "Nobody owns it."])

    request = post_request({"title": "Leak", "version": "1"})
    assert submit_form(request, TitleForm(request.POST), refuse, success="Saved.") is None
    assert said(request) == [("error", "The case is closed."), ("error", "Nobody owns it.")]


def test_submit_form_lets_a_refused_permission_become_a_403():
    def forbid(**kw):
        raise NotAllowed("Only managers.")

    request = post_request({"title": "Leak", "version": "1"})
    with pytest.raises(PermissionDenied):
        submit_form(request, TitleForm(request.POST), forbid, success="Saved.")
    assert said(request) == []


@pytest.mark.django_db
def test_set_owner_view_hands_the_seen_version_to_the_service(client, manager, responder):
    """The form's version reaches the service: a page loaded before a change is refused, not applied."""
    case = CaseFactory(by=manager, owner=manager)
    seen_version = case.version
    client.force_login(manager)
    first = client.post(reverse("cases:owner", args=[case.reference]), {"owner": responder.pk, "version": seen_version})
    case.refresh_from_db()
    assert first.status_code == 302 and case.owner == responder and case.version > seen_version
    stale = client.post(reverse("cases:owner", args=[case.reference]), {"owner": manager.pk, "version": seen_version}, follow=True)
    case.refresh_from_db()
    assert case.owner == responder
    assert any("changed while you were looking at it" in str(m) for m in get_messages(stale.wsgi_request))
