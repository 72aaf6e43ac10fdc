"""The django-axes handler: a lock per username *and* address, and a higher ceiling per address.

Keying the lock on the pair means wrong passwords from one address cannot lock the real owner
out from another (an attacker could otherwise lock every responder out during an incident), and
one colleague's typos do not lock everyone behind the same NAT. Password spraying (many usernames
from one address) meets a separate, higher ceiling, ``IRT_LOCKOUT_ADDRESS_FAILURES``, which axes
cannot express on its own: its lockout parameters share one failure limit.

Loaded by axes through ``AXES_HANDLER``; import it nowhere else.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def address_failures(request) -> int:
    """Return the failures from the request's address within the cool-off, for any username."""
    if not request.axes_ip_address:
        return 0
    total = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request),
    ).aggregate(total=Sum("failures_since_start"))["total"]
    return total or 0


def address_ceiling_reached(request) -> bool:
    return address_failures(request) >= settings.IRT_LOCKOUT_ADDRESS_FAILURES


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        """Count the (username, address) failures; an address over its ceiling counts as locked."""
        failures = super().get_failures(request, credentials)
        if address_ceiling_reached(request):
            return max(failures, get_failure_limit(request, credentials))
        return failures
