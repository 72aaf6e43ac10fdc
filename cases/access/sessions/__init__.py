"""Session engines that read the session row with a query compiled once per process (issue 18).

Django's database engines build and compile the same ``SELECT … WHERE session_key = %s AND
expire_date > %s`` on every request that carries a session cookie: about a fifth of a signed-in
request's own work once the user is one query (``cases/access/backends.py``). These engines are
Django's (``db`` and, with a shared cache, ``cached_db``) with that one read prepared
(``cases/access/prepared.py``); what they store, and when, is unchanged.
"""

import functools
from datetime import UTC, datetime

from django.utils import timezone

from cases.access.prepared import PreparedQuery


@functools.cache
def _session_row() -> PreparedQuery:
    from django.contrib.sessions.models import Session

    return PreparedQuery(
        lambda session_key, now: Session.objects.filter(session_key=session_key, expire_date__gt=now),
        placeholders={"session_key": "prepared-session-a", "now": datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)},
        others={"session_key": "prepared-session-b", "now": datetime(2002, 3, 4, 5, 6, 7, tzinfo=UTC)},
    )


class PreparedSessionRead:
    """The session row read as Django's ``db`` engine reads it, with the query compiled once."""

    def _get_session_from_db(self):
        found = _session_row().objects(session_key=self.session_key, now=timezone.now()) if self.session_key else []
        if not found:
            self._session_key = None
            return None
        return found[0]
