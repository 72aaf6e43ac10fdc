"""Customers whose data a case affected, the out-of-band notices they got, and who read their page.

Which rows count is asked in many places (access, the notice deadline, the close guard, the
outbox, templates), so it is answered once, by ``AffectedCustomerQuerySet``.
"""

from django.db import models

from cases.models.approval import FourEyesApproval, MadeBy, four_eyes_constraint
from cases.models.fields import case_field, happened, user_field

# "A breach row": its data was lost, altered or disclosed. ``breached()`` and ``is_breach`` both read this.
BREACH_FLAGS = {"data_lost": "lost", "data_altered": "altered", "data_disclosed": "disclosed"}
BREACH_IMPACT = models.Q(*[(flag, True) for flag in BREACH_FLAGS], _connector=models.Q.OR)


class AffectedCustomerQuerySet(models.QuerySet):
    def active(self):
        """Rows not withdrawn."""
        return self.filter(withdrawn_at__isnull=True)

    def awaiting_confirmation(self):
        """Active rows a second person has not confirmed yet: the organisation sees nothing."""
        return self.active().filter(confirmed_at__isnull=True)

    def confirmed(self):
        """Active rows a second person confirmed: the organisation reads the incident page."""
        return self.active().filter(confirmed_at__isnull=False)

    def breached(self):
        """Rows whose data was lost, altered or disclosed."""
        return self.filter(BREACH_IMPACT)

    def awaiting_notice(self):
        """Confirmed breach rows without a delivered breach notice or an approved out-of-band notice."""
        return self.confirmed().breached().filter(notified_at__isnull=True)

    def visible_to(self, organization):
        """The organisation's own row, if it may read the incident (at most one per case)."""
        return self.confirmed().filter(organization=organization)

    def impact_seen_by(self, *, case, organization) -> "AffectedCustomer | None":
        """Return the only impact a reader of ``organization`` may see on ``case``: its own row, or None.

        The privacy filter of every customer surface (portal page, email, webhook): never another
        organisation's row, and nothing before confirmation or after withdrawal.
        """
        return self.filter(case=case).visible_to(organization).first()

    def impacts_seen_by(self, *, case, organizations) -> "dict[int, AffectedCustomer]":
        """Return ``impact_seen_by`` for many organisations in one query: ``{organization id: its own row}``."""
        # ``visible_to`` for each organisation at once: confirmed, not withdrawn, its own row.
        return {row.organization_id: row for row in self.filter(case=case).confirmed().filter(organization__in=organizations)}


class AffectedCustomer(MadeBy, models.Model):
    """An organisation affected by a case, and what happened to its data.

    ``impact_statement`` is the customer-visible text, the only one a customer page or notice
    renders. An edit after confirmation waits in ``pending_impact_statement`` until a second
    person confirms it. The organisation reads the incident only while the row is confirmed and
    not withdrawn. ``notified_at`` is stamped when its breach notice is delivered or an
    out-of-band notice is approved (``notified_via`` says which).
    """

    class NotifiedVia(models.TextChoices):
        DELIVERY = "delivery", "Delivered breach notice"
        OUT_OF_BAND = "out_of_band", "Out-of-band notice"

    # Confirmation is this row's four-eyes approval (``confirmed_by``): neither author may give it.
    AUTHOR_FIELDS = ("added_by", "edited_by")

    case = case_field("affected_customers")
    organization = models.ForeignKey("cases.Organization", on_delete=models.PROTECT, related_name="affected_by")
    data_lost = models.BooleanField(default=False)
    data_altered = models.BooleanField(default=False)
    data_disclosed = models.BooleanField(default=False)
    impact_statement = models.TextField(
        blank=True, help_text="Shown to this customer. Describe their impact in words they can act on."
    )
    added_by = user_field()
    added_at = models.DateTimeField(auto_now_add=True)
    # The last person who edited the row before it was confirmed: they cannot confirm it either.
    edited_by = user_field(optional=True)
    confirmed_by = user_field(optional=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    pending_impact_statement = models.TextField(blank=True)
    pending_impact_by = user_field(optional=True)
    pending_impact_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notified_via = models.CharField(max_length=20, choices=NotifiedVia.choices, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = user_field(optional=True)
    withdrawal_reason = models.TextField(blank=True)
    # Who of the organisation opened the page or received a notice while it had access, found at withdrawal.
    exposure = models.JSONField(default=list, blank=True)

    objects = AffectedCustomerQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "added_at"]
        # Whether a case still has rows to notify or to confirm is asked after every batch of
        # delivered breach notices: these indexes hold only such rows, so the answer costs the
        # same for the last batch of 100,000 organisations as for the first.
        indexes = [
            models.Index(fields=["case"], condition=models.Q(notified_at__isnull=True, withdrawn_at__isnull=True),
                         name="affected_awaiting_notice"),
            models.Index(fields=["case"], condition=models.Q(confirmed_at__isnull=True, withdrawn_at__isnull=True),
                         name="affected_awaiting_confirmation"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "organization"], condition=models.Q(withdrawn_at__isnull=True),
                name="one_active_affected_row_per_org_and_case",
            ),
            four_eyes_constraint(
                name="affected_row_confirmer_is_not_author", approver="confirmed_by", author="added_by", editor="edited_by",
                message="Whoever added or edited an affected organisation cannot confirm it.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} in {self.case.reference}"

    is_withdrawn = happened("withdrawn_at")
    has_pending_impact = happened("pending_impact_by_id")

    @property
    def data_impacts(self) -> list[str]:
        return [label for flag, label in BREACH_FLAGS.items() if getattr(self, flag)]

    @property
    def is_breach(self) -> bool:
        return bool(self.data_impacts)

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None and not self.is_withdrawn

    @property
    def awaits_confirmation(self) -> bool:
        """Return whether a second person has something to confirm on this row."""
        return not self.is_withdrawn and (self.confirmed_at is None or self.has_pending_impact)

    @property
    def awaits_notice(self) -> bool:
        """The row's answer to ``awaiting_notice()``: confirmed, a breach, no notice yet."""
        return self.is_confirmed and self.is_breach and self.notified_at is None


class OutOfBandNotice(FourEyesApproval):
    """A breach notice given outside IRT (phone, letter, another system's email, a ticket).

    Recorded by an incident manager, it meets the organisation's notice only when someone else
    approves it: a note alone never keeps the promise.
    """

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone call"
        LETTER = "letter", "Letter"
        OTHER_EMAIL = "other_email", "Email from another system"
        TICKET = "ticket", "Support ticket"

    AUTHOR_FIELDS = ("recorded_by",)

    row = models.ForeignKey(AffectedCustomer, on_delete=models.PROTECT, related_name="out_of_band_notices")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    person_reached = models.CharField(max_length=200, help_text="Name and role of the person at the organisation.")
    reached_at = models.DateTimeField("Reached at (UTC)")
    evidence_reference = models.CharField(
        max_length=300, help_text="Where the proof is: call log id, letter tracking number, ticket number, message id."
    )
    recorded_by = user_field()
    recorded_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            four_eyes_constraint(
                name="out_of_band_notice_approver_is_not_recorder", author="recorded_by",
                message="Whoever recorded an out-of-band notice cannot approve it.",
            )
        ]

    def __str__(self) -> str:
        return f"Out-of-band notice to {self.row.organization} by {self.get_channel_display().lower()}"

    is_approved = happened("approved_at")


class IncidentPageView(models.Model):
    """The first time a customer user opened an incident page: who of an organisation saw it."""

    case = case_field("page_views")
    user = user_field()
    organization = models.ForeignKey("cases.Organization", on_delete=models.PROTECT, related_name="+")
    viewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="one_first_page_view_per_user_and_case")]

    def __str__(self) -> str:
        return f"{self.user} opened {self.case.reference}"
