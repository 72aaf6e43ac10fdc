"""Subscriptions to the emailed follow-ups of one incident or of the incidents affecting one service.

A customer user chooses for themselves; a customer administrator also chooses for the whole
organisation (its security contacts, and its users who made no choice of their own), each such
change in the security log. Breach notices are never subject to them: ``outbox.notify_breach``
does not ask.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction

from cases.access.permissions import is_customer
from cases.access.querysets import customer_incidents
from cases.models import Case, Service
from cases.services.customer_admin import administered_organization, record_change
from notifications.models import Subscription, subscription_choices


@dataclass
class Choices:
    """The subscription choices that bear on one incident's follow-ups, by organisation and user.

    A user's answer, most specific first: their own choice for the incident, the organisation's
    choice for the incident, their own choice for an affected service, the organisation's choice for
    one; None when nobody chose (their email preferences decide). Among services, receiving wins.
    """

    incident: dict = field(default_factory=dict)  # (organization_id, user_id or None) -> bool
    services: dict = field(default_factory=dict)  # (organization_id, user_id or None) -> [bool, ...]

    def _service(self, key) -> bool | None:
        answers = self.services.get(key)
        return None if not answers else any(answers)

    def for_organization(self, organization_id) -> bool | None:
        """Return the organisation's own choice (for its security contacts), or None."""
        key = (organization_id, None)
        answer = self.incident.get(key)
        return answer if answer is not None else self._service(key)

    def for_user(self, user) -> bool | None:
        """Return the choice that applies to ``user``, or None."""
        own, org = (user.organization_id, user.pk), (user.organization_id, None)
        for answer in (self.incident.get(own), self.incident.get(org), self._service(own), self._service(org)):
            if answer is not None:
                return answer
        return None

    def decide(self, user, *, default: bool) -> bool:
        """Return whether ``user`` is emailed: the choice that applies, else ``default`` (their preferences)."""
        answer = self.for_user(user)
        return default if answer is None else answer


def choices_for(case_id, organization_ids) -> Choices:
    """Return the choices about ``case_id`` and its services made in the given organisations (one query)."""
    choices = Choices()
    for row in Subscription.objects.for_case(case_id, organization_ids).only("organization_id", "user_id", "case_id", "receive"):
        key = (row.organization_id, row.user_id)
        if row.case_id is not None:
            choices.incident[key] = row.receive
        else:
            choices.services.setdefault(key, []).append(row.receive)
    return choices


def _set(*, by, organization, user, target, receive: bool | None) -> None:
    lookup = {"organization": organization, "user": user, "case" if isinstance(target, Case) else "service": target}
    if receive is None:
        Subscription.objects.filter(**lookup).delete()
    else:
        Subscription.objects.update_or_create(**lookup, defaults={"receive": receive, "changed_by": by})
    # An organisation's choice is part of what every one of its users' kept choices holds.
    users = [user.pk] if user is not None else get_user_model().objects.filter(organization=organization).values_list("pk", flat=True)
    subscription_choices.forget(f"{organization.pk}:{pk}" for pk in users)


@transaction.atomic
def set_subscriptions(*, by, target: Case | Service, mine: bool | None, organization: bool | None = None,
                      set_organization: bool = False, request=None) -> None:
    """Record ``by``'s own choice for ``target`` and, when ``set_organization``, the organisation's (administrators only).

    ``None`` removes a choice (back to the default). An incident must be one of the organisation's:
    refused like any other page of an incident the reader may not know.
    """
    if not is_customer(by):
        raise PermissionDenied("Subscriptions are for customer users.")
    if isinstance(target, Case) and not customer_incidents(by).filter(pk=target.pk).exists():
        raise PermissionDenied("No such incident.")
    org = administered_organization(by) if set_organization else by.organization
    _set(by=by, organization=org, user=by, target=target, receive=mine)
    if set_organization:
        _set(by=by, organization=org, user=None, target=target, receive=organization)
        what = f"incident {target.reference}" if isinstance(target, Case) else f"service {target.name}"
        state = {None: "no organisation choice", True: "email", False: "do not email"}[organization]
        record_change(by=by, request=request, what=f"follow-up emails of {what}: {state}")
