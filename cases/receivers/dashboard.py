"""Any saved or deleted row of the apps the dashboard reads, or any regrouping, gives its queues a new generation.

The dashboard reads cases, tasks, clocks, alert groups, affected organisations, texts awaiting
approval, deliveries and who may see what (object permissions, groups). Rather than list them and
miss one added later, every model of ``cases``, ``notifications`` and ``auth`` counts; a write the
dashboard does not show only renders it once more. A bulk ``.update()`` sends no signal: the services
that make one the queues show call ``forget_queue_data`` (``cases/models/dashboard_data.py``), and the
kept copy's age bound (``cases.views.dashboard.KEPT_AT_MOST``) covers any other.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from cases.selectors.case_page import UNSHOWN_USER_FIELDS
from cases.models import SecurityEvent, SignedInSession
from cases.models.dashboard_data import forget_queue_data

APPS = frozenset({"cases", "notifications", "auth"})


# Written at every sign-in and sign-out, and never shown on the dashboard: a sign-in must not render every reader's again.
BOOKKEEPING = frozenset({SignedInSession, SecurityEvent})


def queue_data_changed(sender, update_fields=None, **kwargs) -> None:
    if sender._meta.app_label not in APPS or sender in BOOKKEEPING:
        return
    if sender._meta.model_name == "user" and update_fields and set(update_fields) <= UNSHOWN_USER_FIELDS:
        return  # a sign-in stamps ``last_login``: nothing the dashboard shows
    forget_queue_data()


post_save.connect(queue_data_changed, dispatch_uid="cases.dashboard.saved")
post_delete.connect(queue_data_changed, dispatch_uid="cases.dashboard.deleted")
m2m_changed.connect(queue_data_changed, dispatch_uid="cases.dashboard.related")
