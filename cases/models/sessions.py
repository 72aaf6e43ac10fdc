"""The session row with its signed-in user's id beside the data, so one query reads both (issue 18).

Django's session row holds the user id only inside its signed, encoded data, so a signed-in
request read the session and then, knowing the id, the user: two round trips before any page
work. With the id in a column of its own (Django's documented way to extend the database session,
``AbstractBaseSession``), the session read joins the user with their permissions and second-factor
devices (``cases.access.sessions``). Deleting a user deletes their sessions.
"""

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class SignedInSession(AbstractBaseSession):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="sessions", help_text="Who signed in with this session; empty before sign-in.")

    class Meta(AbstractBaseSession.Meta):
        db_table = "cases_signed_in_session"

    @classmethod
    def get_session_store_class(cls):
        from cases.access.sessions.db import SessionStore

        return SessionStore
