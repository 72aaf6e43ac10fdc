"""Django's database session engine, on ``SignedInSession``, read with its user in one prepared query (``SESSION_ENGINE``)."""

from django.contrib.sessions.backends import db

from cases.access.sessions import SignedInSessionStore


class SessionStore(SignedInSessionStore, db.SessionStore):
    pass
