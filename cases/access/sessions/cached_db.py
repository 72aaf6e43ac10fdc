"""Django's cached database session engine (a shared cache in front), reading a missed row with a prepared query."""

from django.contrib.sessions.backends import cached_db

from cases.access.sessions import PreparedSessionRead


class SessionStore(PreparedSessionRead, cached_db.SessionStore):
    pass
