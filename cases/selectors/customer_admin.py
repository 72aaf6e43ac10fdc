"""Reads for a customer administrator's organisation page: its users and its own security-log entries."""

from django.contrib.auth import get_user_model

from cases.models import SecurityEvent

RECENT_CHANGES = 50


def organization_users(organization):
    return get_user_model().objects.filter(organization=organization, is_active=True).order_by("username")


def recent_changes(organization):
    """Return the organisation's customer-administrator changes, newest first (the security log's rows)."""
    return (SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CUSTOMER_SETTINGS_CHANGED, actor__organization=organization)
            .select_related("actor")[:RECENT_CHANGES])
