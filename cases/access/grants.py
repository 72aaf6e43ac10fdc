"""Granting and revoking a customer organisation's object permission on an incident page."""

from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm, remove_perm

from cases.access.permissions import INCIDENT_PERMISSION


def organization_group(organization):
    """Return the organisation's access group, creating it on first use."""
    if organization.access_group_id is None:
        group, _ = Group.objects.get_or_create(name=f"Customer organisation: {organization.slug}")
        organization.access_group = group
        organization.save(update_fields=["access_group"])
    return organization.access_group


def grant_incident_access(case, organization) -> None:
    assign_perm(INCIDENT_PERMISSION, organization_group(organization), case)


def revoke_incident_access(case, organization) -> None:
    remove_perm(INCIDENT_PERMISSION, organization_group(organization), case)
