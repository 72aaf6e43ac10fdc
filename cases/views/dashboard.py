"""The staff dashboard: the queues of what is on fire, most severe and oldest first.

The page is kept per reader and generation of the queues' data (``kept_pages``; issue 18). Access
is decided on every request (``staff_required``). The key names the reader and everything their
rights come from, the navigation's values, and the generation any write to the rows the queues are
read from draws anew (``cases/models/dashboard_data.py``). What
changes with time alone is never kept: the clock in the heading, every age and every time left or
overdue flag are slots filled on each request from the moment they count from; the kept copy ends
when a clock falls due or a task of the reader's comes within the day (``selectors.next_change``),
which changes which rows the queues hold, and after ``KEPT_AT_MOST`` in any case (a bulk
``.update()`` sends no signal). Without the cache the page is rendered whole.

The rows reach the template as what it prints: each case's address, badges and due dates worked
out here, once per row, with the very functions the template's tags and filters use (a badge is
its partial rendered once per value on the page, an age Django's ``timesince``, a clock the
``irt`` filters), so the HTML is the same as when the template worked them out itself, for a
fraction of the cost of a template include, a ``reverse`` and a filter chain per row.
"""

import re
from datetime import UTC, datetime, timedelta

from django.template.defaultfilters import date as date_filter
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.timezone import template_localtime

from cases.access.permissions import can_open_cases, can_triage_alerts
from cases.models.dashboard_data import queue_data_version
from cases.selectors import dashboard as selectors
from cases.templatetags.irt import is_past, time_left
from cases.views.helpers import staff_required
from cases.views.kept_pages import STAFF_NAVIGATION_VALUES, render_kept, slot_marker

# A reference ``reverse`` would put into an address as it is (no character it quotes).
_PLAIN_REFERENCE = re.compile(r"[A-Za-z0-9_-]+")
_REFERENCE_STAND_IN = "IRT-0000-STANDIN"
_ID_STAND_IN = 987_654_321

TEMPLATE = "cases/dashboard.html"
# A kept dashboard is rendered again after this long whatever happened: the bound on a change no signal announced.
KEPT_AT_MOST = timedelta(seconds=10)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@staff_required
def dashboard(request):
    user, now = request.user, timezone.now()
    version = queue_data_version()
    reader = (("staff reader", user.pk, user.username, user.get_full_name(), user.is_active, user.is_superuser, user.is_staff,
               user.is_verified(), tuple(sorted(user.get_all_permissions()))),)
    return render_kept(
        request, TEMPLATE, lambda: _context(user, now, keep=version is not None),
        parts=(("queues", version),), reader=reader, navigation_values=STAFF_NAVIGATION_VALUES,
        fresh_until=lambda context, started: context["fresh_until"], keep=version is not None,
        slots=Slots(now).fills(),
    )


def _context(user, now, *, keep: bool) -> dict:
    context = selectors.dashboard(user, now=now)
    context["can_open"] = can_open_cases(user)
    context["can_triage"] = can_triage_alerts(user)
    context.update(DisplayRows().context(context))
    if keep:
        next_change = selectors.next_change(user, now=now)
        context["fresh_until"] = min(filter(None, (next_change, now + KEPT_AT_MOST)))
    else:
        context["fresh_until"] = None
    return context


def _moment_arg(moment) -> int:
    """Return ``moment`` as a slot's argument: whole microseconds since the epoch (exact, letters and digits only)."""
    return (moment - _EPOCH) // _MICROSECOND


class Slots:
    """What the page shows that changes with time alone, filled on every request at ``now``.

    Each slot's argument is the moment it counts from (``_moment_arg``); ``ago`` is what the template's
    ``timesince:now`` printed, ``left`` and ``overdue`` what the ``time_left`` and ``is_past`` filters did.
    """

    def __init__(self, now):
        self.now = now

    def fills(self) -> dict:
        return {"heading_time": self.heading_time, "ago": self.ago, "left": self.left, "overdue": self.overdue}

    @staticmethod
    def moment(arg: str):
        return _EPOCH + int(arg) * _MICROSECOND

    def heading_time(self) -> str:
        return date_filter(template_localtime(self.now), "D j M Y, H:i")

    def ago(self, arg: str) -> str:
        return timesince(self.moment(arg), self.now)

    def left(self, arg: str) -> str:
        return time_left(self.moment(arg))

    def overdue(self, arg: str) -> str:
        return "overdue" if is_past(self.moment(arg)) else ""


class DisplayRows:
    """What the dashboard prints of each row, worked out once per row; what changes with time is a slot's marker."""

    def __init__(self):
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

    @staticmethod
    def ago(moment) -> str:
        return slot_marker("ago", _moment_arg(moment))

    @staticmethod
    def clock(due) -> dict:
        arg = _moment_arg(due)
        return {"overdue": slot_marker("overdue", arg), "left": slot_marker("left", arg),
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

