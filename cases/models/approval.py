"""Four-eyes approval: whoever made something customer-visible or promise-keeping cannot approve it.

One abstract model gives every approvable item its ``approved_by``; ``four_eyes_constraint``
gives each concrete model the database rule (``author_cannot_approve`` for written text), and
``ensure_second_person`` the service check, so the rule is written once for updates, reviews,
delays, out-of-band notices and affected rows.
"""

from django.db import models

from cases.models.exceptions import ActionRefused
from cases.models.fields import user_field


def four_eyes_constraint(
    *, name: str, author: str, message: str, approver: str = "approved_by", editor: str = ""
) -> models.CheckConstraint:
    """Return the check constraint "the approver is neither the author nor (when set) the editor"."""
    differs = ~models.Q(**{approver: models.F(author)})
    if editor:
        differs &= models.Q(**{f"{editor}__isnull": True}) | ~models.Q(**{approver: models.F(editor)})
    return models.CheckConstraint(
        condition=models.Q(**{f"{approver}__isnull": True}) | differs, name=name, violation_error_message=message
    )


def author_cannot_approve(*, name: str, what: str) -> models.CheckConstraint:
    """Return the four-eyes constraint of written text: its ``author`` cannot approve ``what`` ("a review")."""
    return four_eyes_constraint(name=name, author="author", message=f"The author of {what} cannot approve it.")


class MadeBy:
    """``AUTHOR_FIELDS`` names the user fields of whoever made the item: none of them may approve it."""

    AUTHOR_FIELDS: tuple[str, ...] = ("author",)

    def made_by(self, user) -> bool:
        """Return whether ``user`` wrote, recorded or last edited the item."""
        return any(getattr(self, f"{name}_id") == user.pk for name in self.AUTHOR_FIELDS)


class FourEyesApproval(MadeBy, models.Model):
    """An item that a second person approves (``approved_by``), never one of its ``AUTHOR_FIELDS``.

    Concrete models add ``four_eyes_constraint(...)`` to their ``Meta.constraints`` with the same
    author field, so the database refuses what ``ensure_second_person`` refuses.
    """

    approved_by = user_field(optional=True)

    class Meta:
        abstract = True


def ensure_second_person(item, by, message: str) -> None:
    """Refuse ``by`` approving ``item`` (a ``MadeBy``) they made."""
    if item.made_by(by):
        raise ActionRefused(message)
