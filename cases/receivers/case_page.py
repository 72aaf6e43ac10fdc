"""Any saved, deleted or regrouped person, organisation, service or playbook gives the case pages a new stamp."""

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save

from cases.models import Organization, Playbook, PlaybookStep, PlaybookVersion, Service, User
from cases.selectors.case_page import UNSHOWN_USER_FIELDS, forget_references

SENDERS = (User, Group, Permission, Organization, Service, Playbook, PlaybookVersion, PlaybookStep)
RELATIONS = (User.groups.through, User.user_permissions.through, Group.permissions.through)


def references_changed(sender, update_fields=None, **kwargs) -> None:
    if sender is User and update_fields and set(update_fields) <= UNSHOWN_USER_FIELDS:
        return  # a sign-in stamps ``last_login``: nothing any case page shows
    forget_references()


for _sender in SENDERS:
    post_save.connect(references_changed, sender=_sender, dispatch_uid=f"cases.case_page.saved.{_sender._meta.label}")
    post_delete.connect(references_changed, sender=_sender, dispatch_uid=f"cases.case_page.deleted.{_sender._meta.label}")
for _through in RELATIONS:
    m2m_changed.connect(references_changed, sender=_through, dispatch_uid=f"cases.case_page.related.{_through._meta.label}")
