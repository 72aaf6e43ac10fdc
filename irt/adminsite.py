"""Django admin behind the same sign-in as the site: password, lockout, then the second factor."""

from functools import wraps
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite


def _has_admin_rights(user) -> bool:
    return bool(user.is_active and user.is_staff)


class IRTAdminSite(OTPAdminSite):
    """django-otp's admin site (active staff *and* a verified second factor), signed in through the site.

    OTPAdminSite's own login form is never shown: ``login`` sends everyone to the site's sign-in,
    which applies the lockout and then the second factor.
    """

    site_header = "IRT administration"
    site_title = "IRT admin"

    def __init__(self, name="admin"):
        # OTPAdminSite defaults to "otpadmin"; the URL namespace stays "admin".
        super().__init__(name)

    def admin_view(self, view, cacheable=False):
        """Answer 403 to a signed-in user without admin rights, instead of sending them to sign in.

        Sending them to the login page would loop: the site's login page returns a signed-in user
        to ``next``, which is admin again.
        """
        guarded = super().admin_view(view, cacheable)

        @wraps(guarded)
        def inner(request, *args, **kwargs):
            if request.user.is_authenticated and not _has_admin_rights(request.user):
                raise PermissionDenied
            return guarded(request, *args, **kwargs)

        return inner

    def login(self, request, extra_context=None):
        """Send sign-ins to the site's login page, so admin has no second, weaker door."""
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        user = request.user
        if user.is_authenticated:
            if not _has_admin_rights(user):
                raise PermissionDenied
            # Admin rights, but the second factor is still to come.
            return redirect(f"{reverse('account:mfa-verify')}?{urlencode({'next': next_url})}")
        return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
