"""Any saved or deleted review or repair item gives the public lessons pages a new version."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cases.models import PublishedReview, RepairItem
from cases.selectors.lessons import lessons_version


@receiver([post_save, post_delete], sender=PublishedReview, dispatch_uid="cases.lessons.review_changed")
@receiver([post_save, post_delete], sender=RepairItem, dispatch_uid="cases.lessons.repair_changed")
def lessons_changed(sender, **kwargs) -> None:
    lessons_version.invalidate()
