"""What the staff case page shows from outside the case, named by one stamp the page's kept copy is keyed on.

People (every display name, and who is staff: the member, assignee and owner pickers), organisations
(the customer picker, the names in the customers panel, the clocks their flags suggest), services and
playbooks (the suggestion and the choices) change without touching any case. Their stamp is read
from the database and kept under a generation (``irt.cache.Generations``) that
``cases/receivers/case_page.py`` draws anew wherever one of them is saved, deleted or regrouped, so
a kept case page never outlives the names and lists it shows.
"""

import hashlib

from django.contrib.auth.models import Group

from cases.models import Organization, Playbook, PlaybookStep, PlaybookVersion, Service, User
from irt.cache import Generations

references = Generations("case-page")
REFERENCES = "references"


# What the page shows of a person or decides by: never the password, the last sign-in or the session generation,
# which change on every sign-in and reset without changing the page.
USER_FIELDS = ("pk", "username", "first_name", "last_name", "email", "is_active", "is_superuser", "is_staff",
               "organization_id", "is_customer_admin", "is_service_account")
UNSHOWN_USER_FIELDS = frozenset({"password", "last_login", "session_generation"})


def _rows(model) -> list:
    names = USER_FIELDS if model is User else [field.attname for field in model._meta.concrete_fields]
    return list(model.objects.order_by("pk").values_list(*names))


def _stamp_from_database() -> str:
    digest = hashlib.sha256()
    for model in (User, User.groups.through, User.user_permissions.through, Group.permissions.through,
                  Organization, Service, Playbook, PlaybookVersion, PlaybookStep):
        digest.update(repr((model._meta.label, _rows(model))).encode())
    return digest.hexdigest()[:32]


def references_stamp() -> str:
    """Return the stamp of the people, organisations, services and playbooks every case page shows."""
    return references.get(REFERENCES, _stamp_from_database)


def forget_references() -> None:
    references.forget([REFERENCES])
