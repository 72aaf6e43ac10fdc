"""What an approver and the case page need to know about customer text: the next notice step, recipients, changes.

Reads only. The breach-notice step works on the rows the case page already prefetched
(``cases.selectors.cases.case_detail``), so it adds no query to that page.
"""

import datetime
import difflib
import re
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from cases.access.prepared import PreparedQuery
from cases.models import Acknowledgement, AffectedCustomer, Case, IncidentUpdate, User
from cases.models import hooks


@dataclass(frozen=True)
class BreachNoticeStep:
    """The next thing to do for a declared breach whose customers have no notice yet.

    ``kind`` is ``"draft"`` (no update since the declaration: write the first one, which goes out
    as the breach notice) or ``"approve"`` (``draft`` waits for a second person).
    """

    kind: str
    organizations: list[str]
    draft: IncidentUpdate | None = None


def breach_notice_step(case: Case) -> BreachNoticeStep | None:
    """Return the breach notice's next step, or None when there is none (no breach, notices sent, case over).

    Publishing an update after the declaration is what sends the breach notice to every
    confirmed breached organisation, so only cases without such an update have a step here; what
    became of each sent notice is shown per organisation in the customers panel.
    """
    if not case.breach_declared_at or not case.is_open:
        return None
    waiting = [row.organization.name for row in case.affected_customers.all() if row.awaits_notice]
    if not waiting:
        return None
    updates = list(case.updates.all())
    if any(update.is_published and update.published_at >= case.breach_declared_at for update in updates):
        return None
    drafts = [update for update in updates if not update.is_published]
    if drafts:
        return BreachNoticeStep("approve", waiting, draft=drafts[-1])
    return BreachNoticeStep("draft", waiting)


def _affected_rows(case_id):
    return AffectedCustomer.objects.filter(case_id=case_id).select_related("organization").order_by("pk")


def _acknowledgements(case_id):
    return Acknowledgement.objects.filter(case_id=case_id).select_related("user").order_by("acknowledged_at", "pk")


# Compiled once per process: the case page reads them on every request, kept or not (issue 18).
_AFFECTED_ROWS = PreparedQuery(_affected_rows, placeholders={"case_id": -791_001}, others={"case_id": -791_002})
_ACKNOWLEDGEMENTS = PreparedQuery(_acknowledgements, placeholders={"case_id": -792_001}, others={"case_id": -792_002})


def notice_status(case: Case) -> list[AffectedCustomer]:
    """Return the case's affected rows, each with its ``receipts`` and ``acknowledgements``: three queries.

    ``receipts`` are the sends of the case's customer notices to the organisation (the
    ``hooks.case_delivery_receipts`` dicts: channel, recipient, kind, status, delivered_at,
    message_id = the delivery id); ``acknowledgements`` are its users' acknowledgements, oldest first.
    """
    receipts: dict[str, list[dict]] = {}
    for receipt in hooks.case_delivery_receipts(case):
        receipts.setdefault(receipt["organization"], []).append(receipt)
    acknowledgements: dict[int, list] = {}
    for ack in _ACKNOWLEDGEMENTS.objects(case_id=case.pk):
        acknowledgements.setdefault(ack.user.organization_id, []).append(ack)
    rows = _AFFECTED_ROWS.objects(case_id=case.pk)
    for row in rows:
        row.receipts = receipts.get(row.organization.name, [])
        row.acknowledgements = acknowledgements.get(row.organization_id, [])
    return rows


@dataclass
class Recipient:
    """One organisation that receives a customer text, and the people it reaches there."""

    organization: str
    impact_statement: str
    contacts: list[str] = field(default_factory=list)
    portal_users: int = 0


def recipients(case: Case, *, breach_notice: bool) -> list[Recipient]:
    """Return the organisations that read the case's customer text, with their contacts: two queries.

    Confirmed, not withdrawn organisations receive it; each one's security contacts are emailed, and
    for a breach notice its users' addresses stand in when it has no security contact. Every user of
    the organisation sees it in their inbox and on the portal.
    """
    rows = list(case.affected_customers.confirmed().select_related("organization").order_by("organization__name"))
    users: dict[int, list] = {}
    for user in User.objects.filter(organization__in=[row.organization_id for row in rows], is_active=True).order_by("pk"):
        users.setdefault(user.organization_id, []).append(user)
    result = []
    for row in rows:
        org_users = users.get(row.organization_id, [])
        contacts = list(row.organization.security_contact_emails())
        if breach_notice and row.is_breach and not contacts:
            contacts = [user.email for user in org_users if user.email]
        result.append(Recipient(row.organization.name, row.impact_statement, contacts, len(org_users)))
    return result


@dataclass(frozen=True)
class FieldChange:
    label: str
    changed: bool
    diff: SafeString


def _word_diff(old: str, new: str) -> SafeString:
    """Return ``new`` as HTML with words removed since ``old`` in <del> and words added in <ins>.

    Line endings are normalised first: a browser sends CRLF, so an untouched field must not differ.
    """
    old_words = re.findall(r"^\s+|\S+\s*", old.replace("\r\n", "\n"))
    new_words = re.findall(r"^\s+|\S+\s*", new.replace("\r\n", "\n"))
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape("".join(old_words[i1:i2])))
            continue
        if i2 > i1:
            parts.append(f"<del>{escape(''.join(old_words[i1:i2]))}</del>")
        if j2 > j1:
            parts.append(f"<ins>{escape(''.join(new_words[j1:j2]))}</ins>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece is escaped above


def changes(model, draft, previous, names) -> list[FieldChange]:
    """Return, field by field, what ``draft`` changes in ``previous`` (None: everything is new)."""
    def text(item, name) -> str:
        if item is None:
            return ""
        shown = getattr(item, f"get_{name}_display", None)  # a choice reads as its label
        value = shown() if shown else getattr(item, name)
        if isinstance(value, datetime.datetime):
            return f"{value.astimezone(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
        return str(value or "")

    result = []
    for name in names:
        label = model._meta.get_field(name).verbose_name
        new, old = text(draft, name), text(previous, name)
        changed = old.replace("\r\n", "\n") != new.replace("\r\n", "\n")
        result.append(FieldChange(label[:1].upper() + label[1:], changed, _word_diff(old, new)))
    return result


def update_changes(update: IncidentUpdate, names) -> tuple[IncidentUpdate | None, list[FieldChange]]:
    """Return the last update customers read before ``update`` (the one it corrects, if any) and its field changes."""
    previous = update.corrects or (
        update.case.updates.published().exclude(pk=update.pk).order_by("-published_at", "-id").first()
    )
    return previous, changes(IncidentUpdate, update, previous, names)
