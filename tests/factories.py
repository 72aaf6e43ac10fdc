"""factory-boy factories for every model, plus a helper that drives a case to any stage.

Cases, tasks, affected customers and reviews are created through the services so their
timelines and permissions are as real as in production.
"""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from cases.models import (
    AffectedCustomer,
    Case,
    Deadline,
    DeadlineDelay,
    Organization,
    PostIncidentReview,
    Service,
    Task,
    TimelineEvent,
    User,
)
from cases.access.roles import ensure_teams
from cases.services import breach, lifecycle, review, tasks
from cases.services import cases as case_services
from cases.services.timeline import append_event, lock_case

PASSWORD = "correct-horse-battery-staple"


def team_group(name: str) -> Group:
    """Return the team; a flush by an earlier transactional test may have removed it."""
    group = Group.objects.filter(name=name).first()
    if group is None:
        ensure_teams()
        group = Group.objects.get(name=name)
    return group


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Customer {n}")
    slug = factory.Sequence(lambda n: f"customer-{n}")
    security_contacts = factory.LazyAttribute(lambda o: f"security@{o.slug}.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@irt.example")
    first_name = factory.LazyAttribute(lambda o: o.username.capitalize())
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def team(self, create, extracted, **kwargs):
        """Add the user to ``team`` (a group name) when one is given."""
        if extracted:
            self.groups.add(team_group(extracted))
        if create:
            self.save()


def _team_factory(name: str, team: str):
    return type(name, (UserFactory,), {"Meta": type("Meta", (), {"model": User}), "team": _with_team(team)})


def _with_team(team: str):
    @factory.post_generation
    def add_team(self, create, extracted, **kwargs):
        self.groups.add(team_group(extracted or team))
        if create:
            self.save()

    return add_team


StaffFactory = _team_factory("StaffFactory", "Responders")
ManagerFactory = _team_factory("ManagerFactory", "Incident managers")
CommsFactory = _team_factory("CommsFactory", "Communications")


class CustomerUserFactory(UserFactory):
    organization = factory.SubFactory(OrganizationFactory)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Service {n}")


class CaseFactory(factory.django.DjangoModelFactory):
    """Open a case through ``open_case``; ``by`` defaults to a new responder."""

    class Meta:
        model = Case

    title = factory.Sequence(lambda n: f"Suspicious activity {n}")
    source = Case.Source.ALERT
    by = factory.SubFactory(StaffFactory)
    owner = None
    restricted = False

    @classmethod
    def _create(cls, model_class, *args, by, **kwargs):
        return case_services.open_case(by=by, **kwargs)


class CaseRowFactory(factory.django.DjangoModelFactory):
    """Create a row of a case through its service: ``service(case=…, by=…, **fields)``; ``by`` defaults to the opener."""

    class Meta:
        abstract = True

    case = factory.SubFactory(CaseFactory)

    @classmethod
    def _create(cls, model_class, *args, case, by=None, **kwargs):
        return cls.service(case=case, by=by or case.created_by, **kwargs)


class TaskFactory(CaseRowFactory):
    class Meta:
        model = Task

    service = staticmethod(tasks.add_task)
    title = factory.Sequence(lambda n: f"Task {n}")
    mandatory = False


class AffectedCustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AffectedCustomer

    case = factory.SubFactory(CaseFactory)
    organization = factory.SubFactory(OrganizationFactory)
    data_disclosed = True
    impact_statement = "Objects in one bucket were read by an unknown party."

    @classmethod
    def _create(cls, model_class, *args, case, by=None, confirm=True, confirmed_by=None, **kwargs):
        """Add the row through the service and, unless ``confirm=False``, have a second person confirm it."""
        by = by or case.created_by
        row = breach.add_affected_customer(case=case, by=by, **kwargs)
        if confirm:
            row = breach.confirm_affected_customer(row=row, by=confirmed_by or _second_person(by))
        return row


def _second_person(by):
    """Return someone other than ``by`` who may confirm customer-visible changes (the comms persona first)."""
    from cases.models import User

    others = User.objects.filter(is_active=True, groups__name__in=["Communications", "Incident managers"]).exclude(pk=by.pk)
    return others.filter(username="comms").first() or others.order_by("pk").first() or CommsFactory()


class DeadlineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deadline

    case = factory.SubFactory(CaseFactory)
    kind = Deadline.Kind.CUSTOMER_NOTICE
    started_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(hours=72))


class DeadlineDelayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeadlineDelay

    deadline = factory.SubFactory(DeadlineFactory)
    new_due_at = factory.LazyAttribute(lambda o: o.deadline.due_at + timedelta(hours=24))
    reason = "Law enforcement asked us to hold the notice for a day."
    requested_by = factory.SubFactory(ManagerFactory)


class ReviewFactory(CaseRowFactory):
    class Meta:
        model = PostIncidentReview

    service = staticmethod(review.save_review)
    what_happened = "Between 02:10 and 05:40 UTC objects were readable across accounts."
    what_went_wrong = "A policy engine release inverted one deny rule."


class TimelineEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEvent

    case = factory.SubFactory(CaseFactory)
    kind = TimelineEvent.Kind.NOTE
    text = factory.Sequence(lambda n: f"Note {n}")

    @classmethod
    def _create(cls, model_class, *args, case, actor=None, **kwargs):
        from django.db import transaction

        with transaction.atomic():
            return append_event(case=lock_case(case), actor=actor or case.created_by, **kwargs)


def case_in_stage(stage: str, *, manager: User, **case_kwargs) -> Case:
    """Return a case opened by ``manager`` and driven through the services to ``stage``."""
    case = CaseFactory(by=manager, owner=manager, **case_kwargs)
    if stage == Case.Status.DETECTED:
        return case
    if stage == Case.Status.DISMISSED:
        return lifecycle.dismiss_case(case=case, by=manager, reason=Case.DismissalReason.FALSE_POSITIVE, note="Benign scanner.")
    case = lifecycle.start_assessment(case=case, by=manager)
    if stage == Case.Status.ASSESSING:
        return case
    case = case_services.update_case_details(
        case=case, by=manager, changes={"severity": Case.Severity.HIGH, "scope": Case.Scope.PROVIDER},
        services=[ServiceFactory(name="Object Storage")],
    )
    case = lifecycle.start_diagnosis(case=case, by=manager)
    if stage == Case.Status.DIAGNOSING:
        return case
    case = lifecycle.stabilize(case=case, by=manager, note="Contained by revoking the leaked key.")
    if stage == Case.Status.STABILIZING:
        return case
    author = StaffFactory()
    case_services.add_member(case=case, by=manager, user=author)
    review.save_review(case=case, by=author, what_happened="Key leaked.", what_went_wrong="Key in a public repo.")
    review.approve_review(case=case, by=manager)
    case = lifecycle.close_case(case=case, by=manager, note="Done.")
    assert case.status == stage, f"cannot drive a case to {stage!r}"
    return case
