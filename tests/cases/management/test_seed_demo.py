"""``seed_demo`` gives the demo users and cases it promises, and is safe to run twice."""

from django.contrib.auth import authenticate as django_authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from cases.models import Case, IncidentUpdate, Organization, User
from notifications.models import Subscription
from cases.selectors.timeline import first_broken_link


def authenticate(**credentials):
    # django-axes checks the lockout of the requesting address, so every sign-in carries a request.
    return django_authenticate(RequestFactory().post("/accounts/login/"), **credentials)


def test_seed_demo_creates_the_contract_users_and_a_case_in_every_stage(db):
    call_command("seed_demo", password="a-demo-password-123")
    for username in ("admin", "manager", "responder", "comms", "customer-contoso", "customer-fabrikam"):
        assert authenticate(username=username, password="a-demo-password-123") is not None, username
    assert set(Case.objects.values_list("status", flat=True)) == set(Case.Status.values)
    assert User.objects.get(username="customer-contoso").organization.slug == "contoso"
    assert User.objects.get(username="admin").is_superuser


def test_seed_demo_declares_one_breach_affecting_contoso_but_not_fabrikam(db):
    call_command("seed_demo")
    breached = Case.objects.filter(breach_declared_at__isnull=False)
    assert breached.count() == 1
    affected = set(breached.get().affected_customers.values_list("organization__slug", flat=True))
    assert "contoso" in affected and "fabrikam" not in affected


def test_seed_demo_is_idempotent(db):
    call_command("seed_demo")
    counts = (Case.objects.count(), User.objects.count(), Organization.objects.count())
    call_command("seed_demo", password="changed-password-456")
    assert (Case.objects.count(), User.objects.count(), Organization.objects.count()) == counts
    assert Subscription.objects.count() == 1
    assert authenticate(username="manager", password="changed-password-456") is not None
    for case in Case.objects.all():
        assert first_broken_link(case)[0] is None


def test_seed_demo_publishes_an_update_with_the_times_of_an_ongoing_incident(db):
    call_command("seed_demo")
    update = IncidentUpdate.objects.published().get()
    case = update.case
    assert case.is_open and update.status != "resolved"
    assert update.impact_started_at < update.detected_at == case.detected_at < update.impact_ended_at < update.published_at
    assert (case.impact_started_at, case.impact_ended_at) == (update.impact_started_at, update.impact_ended_at)
    assert update.next_update_by > timezone.now()
    assert f"{update.impact_started_at:%H:%M} and {update.impact_ended_at:%H:%M} UTC" in update.what_happened


def test_seed_demo_gives_contosos_customer_one_subscription_example(db):
    call_command("seed_demo")
    subscription = Subscription.objects.get()
    assert (subscription.user.username, subscription.organization.slug) == ("customer-contoso", "contoso")
    assert subscription.service.name == "Object Storage" and subscription.case is None and subscription.receive
