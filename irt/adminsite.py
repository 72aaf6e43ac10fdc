"""Django admin behind the same sign-in as the site: password, lockout, then the second factor."""

from urllib.parse import urlencode

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse


class IRTAdminSite(admin.AdminSite):
    site_header = "IRT administration"
    site_title = "IRT admin"

    def has_permission(self, request):
        """Require a verified second factor on top of Django's active-staff check (as OTPAdminSite does)."""
        is_verified = getattr(request.user, "is_verified", None)
        return super().has_permission(request) and bool(is_verified and is_verified())

    def login(self, request, extra_context=None):
        """Send sign-ins to the site's login page, so admin has no second, weaker door."""
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
