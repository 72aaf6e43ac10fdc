"""Hypothesis fuzzing of every form on the site: never a 500, never a change when refused, never unescaped.

The forms are found by reading the pages each persona sees (every ``<form method="post">`` and its
fields), so a new form is fuzzed without being listed here; ``test_every_post_url_has_a_form_fuzzed``
fails when a POST URL of the authorization matrix has no form on any page read.
"""

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.db.models import Sum
from django.urls import resolve, reverse
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from cases.models import Case, SecurityEvent, SignedInSession, TimelineEvent
from tests.cases.views.test_authorization import MATRIX, resolve_kwargs, world  # noqa: F401 - fixture
from tests.factories import case_in_stage
from tests.mfa import login_without_second_factor

MARKERS = ['<script>alert("xss")</script>', '"><img src=x onerror=alert(1)>', "<b data-fuzz>"]
CONTROL = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\u200b\u202e\ufeff\ud7ff\r\n\t"

value = st.one_of(
    st.just(""),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.text(alphabet=st.sampled_from(CONTROL), min_size=1, max_size=10),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=4), st.integers(2_000, 30_000)),
    st.sampled_from(MARKERS),
    st.builds(lambda a, m: a + m, st.text(max_size=10), st.sampled_from(MARKERS)),
    st.integers(-(2**63), 2**64).map(str),
    st.sampled_from(["2099-01-01 00:00", "0000-00-00", "1e309", "NaN", "-1", "0", "on", "true", "[]", "{}"]),
)

SKIP_ACTIONS = {"logout"}  # nothing to fuzz; it would end the session the other forms need


class FormFinder(HTMLParser):
    """Collect each POST form's action and the names of its fields."""

    def __init__(self, page_url):
        super().__init__()
        self.page_url = page_url
        self.forms, self._current = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._current = {"action": attrs.get("action") or self.page_url, "fields": set(), "choice_fields": set(),
                             "multipart": "multipart" in (attrs.get("enctype") or "")}
        elif self._current is not None and tag in ("input", "select", "textarea") and attrs.get("name"):
            if attrs["name"] != "csrfmiddlewaretoken" and attrs.get("type") != "file":
                self._current["fields"].add(attrs["name"])
                # Where ids and choices travel: selects, checkboxes, radios, hidden and number inputs.
                if tag == "select" or attrs.get("type") in ("hidden", "checkbox", "radio", "number"):
                    self._current["choice_fields"].add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form" and self._current is not None:
            self.forms.append(self._current)
            self._current = None


def find_forms(client, urls):
    forms = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming or not response["Content-Type"].startswith("text/html"):
            continue
        finder = FormFinder(url)
        finder.feed(response.content.decode())
        for form in finder.forms:
            name = resolve(form["action"].split("?")[0]).view_name
            if name not in SKIP_ACTIONS:
                forms.setdefault(form["action"], {**form, "name": name})
    return list(forms.values())


def snapshot():
    """Return what a refused request must leave unchanged: row counts of the case models, case versions."""
    counts = {
        model._meta.label: model.objects.count()
        for model in apps.get_app_config("cases").get_models()
        if model not in (SecurityEvent, SignedInSession, TimelineEvent)  # bookkeeping: a refusal may log or keep a session
    }
    counts["timeline"] = TimelineEvent.objects.exclude(kind=TimelineEvent.Kind.REFUSED).count()
    counts["versions"] = Case.objects.aggregate(total=Sum("version"))["total"]
    return counts


def refused(response) -> bool:
    if response.status_code in (400, 403, 404, 405, 429):
        return True
    queued = getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", [])
    if any(message.level >= message_levels.ERROR for message in queued):
        return True
    # A form page rendered again with its errors.
    return response.status_code == 200 and b'class="errorlist' in response.content


def fuzzable(forms) -> set[str]:
    """Return the names of the forms that have fields to fuzz (a form with none is skipped)."""
    return {form["name"] for form in forms if form["fields"]}


def fuzz(client, forms, *, examples):
    for form in forms:
        fields = sorted(form["fields"])
        if not fields:
            continue

        @hypothesis_settings(max_examples=examples, deadline=None, database=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])
        @given(data=st.fixed_dictionaries({name: value for name in fields}))
        def post_junk(data):
            before = snapshot()
            response = client.post(form["action"], data)
            assert response.status_code < 500, (form["name"], data)
            if refused(response):
                assert snapshot() == before, f"{form['name']} refused the input but changed data: {data!r}"
            body = b"".join(response.streaming_content if response.streaming else [response.content]).decode(errors="replace")
            for sent in data.values():
                if re.search(r"<[a-zA-Z]", sent):
                    assert sent not in body, f"{form['name']} echoed unescaped input {sent[:80]!r}"

        post_junk()


def pages_for(role, world):
    """Return every GET page of the authorization matrix that ``role`` may open."""
    return [reverse(name, kwargs=resolve_kwargs(kwargs, world["ids"]))
            for name, (method, kwargs, expectations) in sorted(MATRIX.items())
            if method == "get" and expectations[role] == 200 and name != "lessons:feed"]


# POST URLs whose form a page shows only in a state the shared world is not in, fuzzed directly.
DIRECT = [("cases:notice-record", {"reference": "CASE", "row_id": "ROW"},
           {"channel", "person_reached", "reached_at", "evidence_reference"}),
          # Called by site.js from the Preview button under a Markdown field, not a form of its own.
          ("cases:markdown-preview", {}, {"text"})]


def test_manager_forms_survive_junk(client, world):
    client.force_login(world["users"]["manager"])
    forms = find_forms(client, pages_for("manager", world))
    assert len(forms) >= 15, [form["name"] for form in forms]
    forms += [{"name": name, "action": reverse(name, kwargs=resolve_kwargs(kwargs, world["ids"])), "fields": fields}
              for name, kwargs, fields in DIRECT]
    fuzz(client, forms, examples=20)


def test_public_and_sign_in_forms_survive_junk(client, world):
    forms = find_forms(client, [reverse("login"), reverse("password_reset")])
    assert {form["name"] for form in forms} == {"login", "password_reset"}
    fuzz(client, forms, examples=40)


def test_second_factor_forms_survive_junk(client, world):
    from cases.services import mfa
    from tests.factories import StaffFactory
    from tests.mfa import TEST_TOTP_SECRET

    manager = world["users"]["manager"]
    mfa.enrol_totp_with_secret(user=manager, secret_b32=TEST_TOTP_SECRET)
    login_without_second_factor(client, manager)
    forms = find_forms(client, [reverse("account:mfa-verify")])
    assert "account:mfa-verify" in fuzzable(forms), [form["name"] for form in forms]
    fuzz(client, forms, examples=25)
    client.logout()
    login_without_second_factor(client, StaffFactory(username="not-enrolled"))
    forms = find_forms(client, [reverse("account:mfa-setup")])
    assert "account:mfa-setup" in fuzzable(forms), [form["name"] for form in forms]
    fuzz(client, forms, examples=25)


def test_customer_forms_survive_junk(client, world):
    client.force_login(world["users"]["customer_affected"])
    forms = find_forms(client, pages_for("customer_affected", world))
    assert "notifications:preferences" in fuzzable(forms), [form["name"] for form in forms]
    fuzz(client, forms, examples=25)


def test_customer_admin_forms_survive_junk(client, world):
    from tests.cases.views.test_authorization import CUSTOMER_ADMINS

    client.force_login(world["users"]["customer_admin"])
    pages = [reverse(name, kwargs=resolve_kwargs(kwargs, world["ids"])) for name, (method, kwargs, expectations) in sorted(MATRIX.items())
             if method == "get" and expectations.get("customer_admin", expectations[CUSTOMER_ADMINS["customer_admin"]]) == 200
             and name != "lessons:feed"]
    forms = find_forms(client, pages)
    assert {"portal:user-invite", "portal:contact-add", "notifications:webhooks"} <= fuzzable(forms), [form["name"] for form in forms]
    fuzz(client, forms, examples=20)


def test_every_post_url_has_a_form_fuzzed(client, world):
    """Each POST URL of the matrix appears as a form on a page, or is listed with the reason it is not fuzzed."""
    found = {name for name, _, _ in DIRECT}
    for role in ("manager", "customer_affected", "anonymous"):
        client.logout()
        if world["users"][role] is not None:
            client.force_login(world["users"][role])
        found |= {form["name"] for form in find_forms(client, pages_for(role, world))}
    client.force_login(world["users"]["customer_admin"])
    found |= {form["name"] for form in find_forms(client, [reverse("portal:organization"),
                                                             reverse("notifications:webhook", args=[world["ids"]["ENDPOINT"]])])}
    not_fuzzed = {
        "logout": "no fields",
        "account:mfa-disable": "no fields; customers with two-factor only (tests/cases/services/test_security.py)",
        "account:sign-in-with-code": "on the lockout page only (tests/cases/services/test_security.py, junk there)",
        "cases:review-approve": "no fields; shown once the review is written",
        "portal:acknowledge": "no fields; shown only before the customer acknowledges",
        "evidence:export": "no free-text fields (tests/cases/services/test_evidence.py)",
        "evidence:verify-all": "no fields",
        "evidence:verify": "no fields",
        "evidence:supersede": "file upload (tests/cases/services/test_evidence.py)",
        "api_tokens:revoke": "no fields; shown once the user has a token (tests/cases/api/test_api_tokens.py)",
        "portal:feed-token": "no fields (tests/cases/views/test_customer_admin_pages.py)",
        "portal:pack-pdf": "no fields; shown once the organisation was notified (tests/cases/views/test_notification_pack.py)",
        "notifications:webhook-rotate": "no fields (tests/notifications/test_customer_webhooks.py)",
        "notifications:webhook-disable": "no fields (tests/notifications/test_customer_webhooks.py)",
    }
    post_urls = {name for name, spec in MATRIX.items() if spec[0] == "post"}
    missing = post_urls - found - set(not_fuzzed)
    assert not missing, f"POST URLs with no form fuzzed: {sorted(missing)}"


# -- Ids and choices from the query string and the body ---------------------------------

# Values that once reached int(), a lookup or a database integer unchecked: not numbers, numbers
# beyond 64 bits (SQLite and PostgreSQL raise instead of matching nothing), and digit runs longer
# than Python converts.
NASTY_IDS = ["abc", " ", "1.5", "-1", "0", "1e309", "NaN", "0x10", "\x00", "[]", str(2**63 - 1), str(2**63),
             str(-(2**63) - 1), str(2**64), "9" * 5_000]
# Every query-string parameter a view reads, and the pages that read it.
QUERY_PARAMS = {
    "cases:list": ["q", "stage", "severity", "owner", "breach", "page"],
    "cases:update-new": ["corrects"],
    "notifications:inbox": ["page"],
    "notifications:deliveries": ["status", "case", "page"],
    "login": ["next"],
}


def test_every_page_survives_junk_in_its_query_string_and_changes_nothing(client, world):
    manager_pages = {name: reverse(name, kwargs=resolve_kwargs(kwargs, world["ids"]))
                     for name, (method, kwargs, expectations) in MATRIX.items() if method == "get" and expectations["manager"] == 200}
    assert set(QUERY_PARAMS) - {"login"} <= set(manager_pages)
    names = sorted({param for params in QUERY_PARAMS.values() for param in params})
    client.force_login(world["users"]["manager"])
    for name, url in sorted(manager_pages.items()):
        before = snapshot()
        for nasty in NASTY_IDS:
            # Every parameter at once, then each one alone, so an early 400 cannot hide a later 500.
            for query in [{param: nasty for param in names}] + [{param: nasty} for param in QUERY_PARAMS.get(name, [])]:
                assert client.get(url, query).status_code < 500, (name, {key: text[:40] for key, text in query.items()})
        assert snapshot() == before, f"GET {name} with junk in its query string changed data"
    client.logout()
    for nasty in NASTY_IDS:
        assert client.get(reverse("login"), {"next": nasty}).status_code == 200


def _correction_page(world) -> str:
    from cases.models import IncidentUpdate

    published = IncidentUpdate.objects.filter(case=world["case"], published_at__isnull=False).first()
    return reverse("cases:update-new", args=[world["case"].reference]) + f"?corrects={published.pk}"


def test_every_id_and_choice_field_survives_junk_ids_and_refusals_change_nothing(client, world):
    """Each id or choice field of each form (users, services, organisations, updates, versions) gets each nasty value."""
    client.force_login(world["users"]["manager"])
    forms = find_forms(client, pages_for("manager", world) + [_correction_page(world)])
    named = {(form["name"], field) for form in forms for field in form["choice_fields"]}
    # The id-carrying fields this test exists for; a page that stopped showing them would empty it.
    assert {("cases:new", "services"), ("cases:new", "owner"), ("cases:edit", "services"), ("cases:edit", "version"),
            ("cases:member-add", "user"), ("cases:owner", "owner"), ("cases:task-add", "assignee"),
            ("cases:customer-add", "organization"), ("cases:update-new", "corrects")} <= named, sorted(named)
    for form in forms:
        # A form without id fields still gets ids it never asked for in its body.
        for field in sorted(form["choice_fields"]) or ["id"]:
            before, all_refused = snapshot(), True
            for nasty in NASTY_IDS:
                response = client.post(form["action"], {field: nasty})
                assert response.status_code < 500, (form["name"], field, nasty[:40])
                all_refused = all_refused and not response.streaming and refused(response)
            if all_refused:
                assert snapshot() == before, f"{form['name']} refused junk in {field} but changed data"


def test_update_form_with_non_numeric_corrects_gives_400_not_500(client, world):
    client.force_login(world["users"]["manager"])
    url = reverse("cases:update-new", args=[world["case"].reference])
    drafts = world["case"].updates.count()
    for value in ["abc", str(2**64), "-1", "1.5"]:
        assert client.get(url, {"corrects": value}).status_code == 400
        response = client.post(url, {"corrects": value, "public_title": "Correction", "what_happened": "More.", "status": "identified"})
        assert response.status_code == 400
        assert "Nothing was changed" in response.content.decode()
    assert world["case"].updates.count() == drafts


def test_update_form_with_another_cases_update_as_corrects_gives_400(client, world, manager):
    from cases.services import communications

    other = case_in_stage(Case.Status.DIAGNOSING, manager=manager)
    update = communications.draft_update(case=other, by=manager, public_title="Other", what_happened="Elsewhere.")
    client.force_login(world["users"]["manager"])
    url = reverse("cases:update-new", args=[world["case"].reference])
    assert client.get(url, {"corrects": update.pk}).status_code == 400
    published = world["case"].updates.filter(published_at__isnull=False).first()
    page = client.get(url, {"corrects": published.pk})
    assert page.status_code == 200 and "Correct a published update" in page.content.decode()


@pytest.mark.parametrize("field", ["services", "owner"])
@pytest.mark.parametrize("value", [str(2**63), str(2**64), str(-(2**63) - 1), "9" * 5_000, "abc"])
def test_case_new_with_huge_service_id_shows_form_error(client, world, field, value):
    client.force_login(world["users"]["manager"])
    cases = Case.objects.count()
    response = client.post(reverse("cases:new"), {"title": "Odd ids", "source": Case.Source.INTERNAL, field: value})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert Case.objects.count() == cases


def test_case_edit_with_huge_service_id_shows_form_error_and_keeps_the_case(client, world):
    case = world["case"]
    client.force_login(world["users"]["manager"])
    response = client.post(reverse("cases:edit", args=[case.reference]), {
        "version": case.version, "title": "Changed", "source": case.source, "breach_category": case.breach_category,
        "services": [str(2**64)],
    })
    assert response.status_code == 400 and "Select a valid choice" in response.context["form"].errors["services"][0]
    case.refresh_from_db()
    assert case.title != "Changed"


def test_a_stale_version_beyond_64_bits_is_a_form_error(client, world):
    case = world["case"]
    client.force_login(world["users"]["manager"])
    before = snapshot()
    response = client.post(reverse("cases:owner", args=[case.reference]), {"version": str(2**64), "owner": ""}, follow=True)
    assert response.status_code == 200 and snapshot() == before
