"""Declarations many case models share: who did something, and whether something happened.

A person on a case record (author, approver, whoever recorded, closed or skipped something) is a
foreign key to the user model that, unless a model says otherwise, protects the record (an account
with records is deactivated, never deleted) and has no reverse accessor, since nothing looks those
records up from the user's side. ``user_field`` says that once. Most steps of the work are a
timestamp that stays empty until the step happens; ``happened`` turns one into the yes/no question
templates and services ask.
"""

from django.conf import settings
from django.db import models


def user_field(
    *, optional: bool = False, on_delete=models.PROTECT, related_name: str = "+", **options
) -> models.ForeignKey:
    """Return a foreign key to a user; ``optional`` when the person is only known once something happens."""
    if optional:
        options.update(null=True, blank=True)
    return models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=on_delete, related_name=related_name, **options)


def happened(timestamp: str) -> property:
    """Return a read-only property: whether the field ``timestamp`` is set, i.e. the step happened."""
    return property(lambda record: getattr(record, timestamp) is not None, doc=f"Whether ``{timestamp}`` is set.")


def case_field(related_name: str, *, optional: bool = False) -> models.ForeignKey:
    """Return the foreign key of a record that belongs to a case.

    It protects the case: a case with records is closed, never deleted, so its history stays whole.
    """
    options = {"null": True, "blank": True} if optional else {}
    return models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name=related_name, **options)
