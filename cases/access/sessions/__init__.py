"""Session engines that read the session row and its signed-in user in one query compiled once per process (issue 18).

Django's database engines build and compile the same ``SELECT … WHERE session_key = %s AND
expire_date > %s`` on every request that carries a session cookie, and the user is then read in a
query of its own. These engines are Django's (``db`` and, with a shared cache, ``cached_db``) on
``SignedInSession`` (Django's session row with the signed-in user's id in a column of its own): its
read joins the user with their permissions and confirmed second-factor devices
(``cases.access.backends``), compiled once (``cases/access/prepared.py``), so a signed-in request
makes one round trip before any page work, and on PostgreSQL a repeated request makes none: the
read is kept in the process until a row it came from changes (``memo``). What they store, and
when, is Django's.
"""

import functools
from datetime import UTC, datetime

from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from cases.access.prepared import PreparedQuery
from cases.access.sessions.memo import signed_in_memo


@functools.cache
def _session_row() -> PreparedQuery:
    from cases.access.backends import signed_in_annotations
    from cases.models import SignedInSession

    return PreparedQuery(
        lambda session_key, now: SignedInSession.objects.filter(session_key=session_key, expire_date__gt=now)
        .select_related("user__organization").annotate(**signed_in_annotations("user")),
        placeholders={"session_key": "prepared-session-a", "now": datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)},
        others={"session_key": "prepared-session-b", "now": datetime(2002, 3, 4, 5, 6, 7, tzinfo=UTC)},
    )


class SignedInSessionStore:
    """Django's database session store on ``SignedInSession``: the row says whose session it is, and its read brings them.

    After a read from the database, ``signed_in_user`` is the session's user as the authentication
    backend reads them (with the four ``signed_in_*`` columns), or None; the backend takes it once.
    """

    signed_in_user = None
    _kept_read = None  # the memo's read this store's data came from, if it did

    @classmethod
    def get_model_class(cls):
        from cases.models import SignedInSession

        return SignedInSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        user_id = str(data.get(SESSION_KEY, ""))
        session.user_id = int(user_id) if user_id.isdigit() else None
        return session

    def load(self):
        """Django's load, answered from the reads this process keeps (``memo``) while they are known to be current.

        A read to keep comes from the database itself (a shared cache in front of it is passed by):
        the row brings the user and the expiry the kept read needs.
        """
        if not (self.session_key and signed_in_memo.usable()):
            return super().load()
        kept = signed_in_memo.entry(self.session_key)
        if kept is not None:
            self._kept_read = kept
            data, self.signed_in_user = signed_in_memo.read(kept)
            return data
        stamp = signed_in_memo.stamp()
        row = self._get_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        self._kept_read = signed_in_memo.keep(row.session_key, stamp, data, self.signed_in_user, row.expire_date)
        return data

    def kept_signed_in_user(self):
        """The user Django's ``auth.get_user`` made of this very read in an earlier request, the request's own copy, or None.

        Only while the data is as read: a session changed before the user is asked for is not the read it was made of.
        """
        self._get_session()  # loads the session, as get_user would
        if self._kept_read is None or self.modified:
            return None
        return signed_in_memo.finished(self.session_key, self._kept_read)

    def keep_signed_in_user(self, user) -> None:
        """Keep what ``auth.get_user`` made of this read (a signed-in user, the session unchanged by it) beside the read."""
        if self._kept_read is not None and not self.modified and user.is_authenticated:
            user.model_permissions()  # read now, once per kept read, so every copy answers has_perm without the backends
            signed_in_memo.keep_finished(self.session_key, self._kept_read, user)

    def save(self, must_create=False):
        super().save(must_create)
        signed_in_memo.forget(self.session_key)

    def delete(self, session_key=None):
        signed_in_memo.forget(session_key or self.session_key)
        super().delete(session_key)

    def _get_session_from_db(self):
        from cases.access.backends import SIGNED_IN_ANNOTATIONS

        found = _session_row().objects(session_key=self.session_key, now=timezone.now()) if self.session_key else []
        if not found:
            self._session_key = None
            return None
        session = found[0]
        if session.user is not None:
            for name in SIGNED_IN_ANNOTATIONS:
                setattr(session.user, name, getattr(session, name))
        self.signed_in_user = session.user
        return session
