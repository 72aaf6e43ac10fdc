"""A saved or deleted organisation makes the portal's kept name of it stale (``cases.selectors.portal``)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cases.models import Organization
from cases.selectors.portal import forget_organization


@receiver([post_save, post_delete], sender=Organization, dispatch_uid="cases.portal.organization_changed")
def organization_changed(sender, instance, **kwargs) -> None:
    forget_organization(instance.pk)
