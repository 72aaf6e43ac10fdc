"""Django's database session engine, reading the session row with a prepared query (``SESSION_ENGINE``)."""

from django.contrib.sessions.backends import db

from cases.access.sessions import PreparedSessionRead


class SessionStore(PreparedSessionRead, db.SessionStore):
    pass
