"""The outbox: notifications, one delivery per recipient × channel, and the attempts made.

A ``Notification`` and its ``Delivery`` rows are written in the transaction of the event that
caused them. A delivery is worked by ``notifications.services.delivery.deliver`` under a lease
and ends ``delivered`` or ``dead``; every attempt leaves a ``DeliveryAttempt`` row. The
delivery's UUID is stable across retries (the email Message-ID and the webhook-id), so
receivers can deduplicate an at-least-once delivery.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models.fields import case_field
from irt.cache import Generations


class Notification(models.Model):
    """Something to tell one or more people, caused by one event."""

    class Kind(models.TextChoices):
        # Mandatory: an organisation's data was lost, altered or disclosed. Cannot be unsubscribed.
        BREACH_NOTICE = "breach_notice", "Breach notice"
        INCIDENT_UPDATE = "incident_update", "Incident update"
        REVIEW_PUBLISHED = "review_published", "Post-incident review published"
        CASE_ASSIGNED = "case_assigned", "Case assigned to you"
        MEMBER_ADDED = "member_added", "Added to a case"
        APPROVAL_REQUESTED = "approval_requested", "Update awaiting approval"
        DEADLINE_REMINDER = "deadline_reminder", "Deadline reminder"
        DELIVERY_DEAD = "delivery_dead", "Delivery failed"
        # A customer asked a question or sent a file, or a reply to one awaits approval (staff).
        CUSTOMER_QUESTION = "customer_question", "Question or file from a customer"
        # The asker's answer is readable on their incident page (the asking customer user only).
        QUESTION_ANSWERED = "question_answered", "Your question was answered"

    CUSTOMER_KINDS = (Kind.BREACH_NOTICE, Kind.INCIDENT_UPDATE, Kind.REVIEW_PUBLISHED)

    kind = models.CharField(max_length=30, choices=Kind.choices)
    case = case_field("notifications", optional=True)
    incident_update = models.ForeignKey(
        "cases.IncidentUpdate", null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    published_review = models.ForeignKey(
        "cases.PublishedReview", null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    # One line, shown in the inbox and used as the subject of staff emails. Never customer impact.
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="Site path the inbox entry points to.")
    # Set for notifications that must exist once only (a deadline reminder per stage and due time).
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # A customer notice's signed statement (cases/services/notice_signing.py): the exact canonical
    # JSON bytes signed (its text, publication time and the case's timeline head), the Ed25519
    # signature (base64) and the signing key's id. Written with the notification, never changed.
    signed_statement = models.TextField(blank=True, editable=False)
    signature = models.CharField(max_length=100, blank=True, editable=False)
    signature_key = models.CharField(max_length=16, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One notification to one recipient over one channel."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"
        INBOX = "inbox", "In-app inbox"

    class Status(models.TextChoices):
        # Waiting for its next attempt (or being attempted, while ``lease_until`` is in the future).
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        # Every attempt failed, or the receiver said never again (HTTP 410). Visible to staff.
        DEAD = "dead", "Dead"

    EXTERNAL_CHANNELS = (Channel.EMAIL, Channel.WEBHOOK)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    notification = models.ForeignKey(Notification, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    # The organisation a customer notice is for: the only organisation whose impact it may show.
    organization = models.ForeignKey(
        "cases.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    address = models.CharField(max_length=254, blank=True)
    endpoint = models.ForeignKey(
        "notifications.WebhookEndpoint", null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker owns the delivery until ``lease_until``; a crashed worker's lease simply expires.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    # When a task for the next attempt was last queued; null when none is (the sweeper queues it).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["user", "channel", "read_at"], name="delivery_inbox"),
            # The drains' claim: one notification's due rows, without walking those already delivered.
            models.Index(fields=["notification", "next_attempt_at"], name="delivery_pending_claim",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient_label}: {self.get_status_display().lower()}"

    @property
    def recipient_label(self) -> str:
        if self.channel == self.Channel.WEBHOOK and self.endpoint_id:
            return f"webhook {self.address}"
        return self.address or (self.user.get_username() if self.user_id else "?")


class DeliveryAttempt(models.Model):
    """One try at a delivery: the error history staff read on a dead delivery."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField(default=False)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number", "at"]

    def __str__(self) -> str:
        return f"attempt {self.number} {'ok' if self.ok else 'failed'}"


class WebhookEndpoint(models.Model):
    """An organisation's HTTPS receiver for customer notices, signed per Standard Webhooks."""

    organization = models.ForeignKey("cases.Organization", on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # ``whsec_`` + base64 of ≥24 random bytes; shown once when created or rotated.
    secret = models.CharField(max_length=100, editable=False)
    # The secret a rotation replaced: webhooks are signed with it too until
    # ``secret_rotated_at`` + IRT_WEBHOOK_SECRET_OVERLAP_HOURS (notifications.services.webhooks).
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organization__name", "url"]

    def __str__(self) -> str:
        return f"{self.organization}: {self.url}"


class Preference(models.Model):
    """What a user asked to be emailed beyond the mandatory notices."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference")
    email_incident_updates = models.BooleanField(
        "Email me incident updates", default=False,
        help_text="Updates on incidents affecting your organisation. Breach notices are always sent.",
    )
    email_reviews = models.BooleanField("Email me post-incident reviews", default=False)
    # On unless turned off: every follow-up update of an incident that affected the organisation's data.
    email_updates_of_breaches = models.BooleanField(
        "Email me every update of an incident that affected our data", default=True,
        help_text="On by default: follow-ups of an incident where your organisation's data was lost, altered or disclosed.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class SubscriptionQuerySet(models.QuerySet):
    def for_case(self, case_id, organization_ids):
        """Return the choices about ``case_id`` or one of its services, made in or for the given organisations."""
        return self.filter(
            models.Q(case_id=case_id) | models.Q(service__cases=case_id), organization_id__in=organization_ids,
        ).distinct()


class Subscription(models.Model):
    """A choice to receive, or not, the emailed follow-ups of one incident or of incidents affecting one service.

    Made by a customer user for themselves (``user`` set) or by a customer administrator for the
    organisation (``user`` empty: it applies to the security contacts and to every user without a
    choice of their own). Breach notices ignore it: they are a legal duty and always go out.
    """

    organization = models.ForeignKey("cases.Organization", on_delete=models.CASCADE, related_name="subscriptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions")
    service = models.ForeignKey("cases.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions")
    receive = models.BooleanField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case__isnull=True, service__isnull=False) | models.Q(case__isnull=False, service__isnull=True),
                name="subscription_names_an_incident_or_a_service",
            ),
            models.UniqueConstraint(fields=["user", "case"], condition=models.Q(user__isnull=False, case__isnull=False),
                                    name="one_subscription_per_user_and_incident"),
            models.UniqueConstraint(fields=["user", "service"], condition=models.Q(user__isnull=False, service__isnull=False),
                                    name="one_subscription_per_user_and_service"),
            models.UniqueConstraint(fields=["organization", "case"], condition=models.Q(user__isnull=True, case__isnull=False),
                                    name="one_subscription_per_organization_and_incident"),
            models.UniqueConstraint(fields=["organization", "service"], condition=models.Q(user__isnull=True, service__isnull=False),
                                    name="one_subscription_per_organization_and_service"),
        ]

    def __str__(self) -> str:
        who = self.user or self.organization
        return f"{who}: {'receive' if self.receive else 'skip'} {self.case or self.service}"


# Each customer's own and their organisation's choices, kept in the cache per user for the incident
# page (``selectors.incident_subscription``); ``services.subscriptions`` forgets them on every change.
subscription_choices = Generations("subscription-choices")
