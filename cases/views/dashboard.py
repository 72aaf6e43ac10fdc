"""The staff dashboard: the queues of what is on fire, most severe and oldest first.

The rows reach the template as what it prints: each case's address, badges, ages and due dates
worked out here, once per row, with the very functions the template's tags and filters use (a
badge is its partial rendered once per value on the page, an age Django's ``timesince``, a clock
the ``irt`` filters), so the HTML is the same as when the template worked them out itself, for a
fraction of the cost of a template include, a ``reverse`` and a filter chain per row (issue 18).
"""

import re

from django.shortcuts import render
from django.template.defaultfilters import date as date_filter
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.timezone import template_localtime

from cases.access.permissions import can_open_cases, can_triage_alerts
from cases.selectors import dashboard as selectors
from cases.templatetags.irt import is_past, time_left
from cases.views.helpers import staff_required

# A reference ``reverse`` would put into an address as it is (no character it quotes).
_PLAIN_REFERENCE = re.compile(r"[A-Za-z0-9_-]+")
_REFERENCE_STAND_IN = "IRT-0000-STANDIN"
_ID_STAND_IN = 987_654_321


@staff_required
def dashboard(request):
    user, now = request.user, timezone.now()
    context = selectors.dashboard(user, now=now)
    context["can_open"] = can_open_cases(user)
    context["can_triage"] = can_triage_alerts(user)
    context["heading_time"] = date_filter(template_localtime(now), "D j M Y, H:i")
    context.update(DisplayRows(now).context(context))
    return render(request, "cases/dashboard.html", context)


class DisplayRows:
    """What the dashboard prints of each row, worked out once per row, ages counted to ``now``."""

    def __init__(self, now):
        self.now = now
        self._badges = {}
        self._case_url = reverse("cases:detail", args=[_REFERENCE_STAND_IN])
        self._group_url = reverse("alerts:group", args=[_ID_STAND_IN])

    def context(self, queues: dict) -> dict:
        """Return the display rows of every queue in ``queues`` (the selector's context), by the names the template uses."""
        return {
            "breach_rows": [self.breach(case) for case in queues["breaches"].rows],
            "late_notice_rows": [self.late_notice(row) for row in queues["late_notices"].rows],
            "unowned_rows": [self.case(case) for case in queues["unowned"].rows],
            "alert_group_rows": [self.alert_group(group) for group in queues["alert_groups"].rows],
            "my_case_rows": [self.case(case) for case in queues["my_cases"].rows],
            "my_task_rows": [self.task(task) for task in queues["my_tasks"].rows],
            "approval_rows": [self.approval(item) for item in queues["approvals"]],
            "dead_delivery_rows": [self.dead_delivery(delivery) for delivery in queues["dead_deliveries"]],
        }

    # Pieces ---------------------------------------------------------------------------------

    def case_url(self, case) -> str:
        if _PLAIN_REFERENCE.fullmatch(case.reference):
            return self._case_url.replace(_REFERENCE_STAND_IN, case.reference)
        return case.get_absolute_url()

    def badge(self, template: str, value, **context) -> str:
        """Return the partial ``template`` rendered for ``context``, once per page for each ``value`` that decides it."""
        key = (template, value)
        if key not in self._badges:
            self._badges[key] = render_to_string(template, context)
        return self._badges[key]

    def severity_badge(self, case) -> str:
        # The partial reads the case's severity, its label and its help: the severity decides them all.
        return self.badge("cases/partials/severity_badge.html", case.severity, case=case)

    def status_badge(self, case) -> str:
        return self.badge("cases/partials/status_badge.html", case.status, case=case)

    def ago(self, moment) -> str:
        return timesince(moment, self.now)

    @staticmethod
    def clock(due) -> dict:
        return {"overdue": "overdue" if is_past(due) else "", "left": time_left(due),
                "due": date_filter(template_localtime(due), "Y-m-d H:i")}

    # Rows -----------------------------------------------------------------------------------

    def case(self, case) -> dict:
        return {
            "url": self.case_url(case), "reference": case.reference, "title": case.title,
            "breach": bool(case.breach_declared_at), "restricted": case.restricted,
            "severity_badge": self.severity_badge(case), "status_badge": self.status_badge(case),
            "owner": case.owner.display_name if case.owner_id else "", "age": self.ago(case.detected_at),
        }

    def breach(self, case) -> dict:
        return {
            "url": self.case_url(case), "reference": case.reference, "title": case.title,
            "breach": bool(case.breach_declared_at), "severity_badge": self.severity_badge(case),
            "clocks": [{"kind": clock.get_kind_display(), **self.clock(clock.due_at)} for clock in case.running_clocks],
            "owner": case.owner.display_name if case.owner_id else "",
        }

    def late_notice(self, row) -> dict:
        return {"organization": row.organization.name, "url": self.case_url(row.case), "reference": row.case.reference,
                "title": row.case.title, **self.clock(row.notice_due_at)}

    def alert_group(self, group) -> dict:
        return {
            "url": self._group_url.replace(str(_ID_STAND_IN), str(group.pk)), "title": group.title,
            "severity_badge": self.badge("cases/alerts/severity_badge.html", group.severity, severity=group.severity,
                                         label=group.get_severity_display()),
            "alert_count": group.alert_count, "age": self.ago(group.first_seen_at),
        }

    def task(self, task) -> dict:
        return {"url": self.case_url(task.case), "reference": task.case.reference, "title": task.title,
                "mandatory": task.mandatory, **self.clock(task.due_at)}

    def approval(self, item) -> dict:
        return {
            "url": f"{self.case_url(item.case)}#{item.anchor}", "what": item.what, "reference": item.case.reference,
            "severity_badge": self.severity_badge(item.case) if item.case.severity else "",
            "title": item.title, "by": item.by.display_name, "age": self.ago(item.at),
        }

    def dead_delivery(self, delivery: dict) -> dict:
        return {**delivery, "title": Truncator(delivery["title"]).chars(90), "age": self.ago(delivery["at"]),
                "error": Truncator(delivery["error"]).chars(140) if delivery["error"] else ""}

