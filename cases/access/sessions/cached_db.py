"""Django's cached database session engine (a shared cache in front), on ``SignedInSession``, a missed row read with its user in one prepared query."""

from django.contrib.sessions.backends import cached_db

from cases.access.sessions import SignedInSessionStore


class SessionStore(SignedInSessionStore, cached_db.SessionStore):
    pass
