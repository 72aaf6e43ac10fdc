"""A customer administrator's page for their own organisation: users, security contacts and the feeds' read token.

Webhook endpoints are on their own page in ``notifications`` (notifications/customer_views.py).
Every change goes through ``cases.services.customer_admin``, which writes the security log.
"""

from functools import partial

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from cases.access.lookups import get_member_for
from cases.forms.customer_admin import InviteUserForm, SecurityContactForm
from cases.selectors import customer_admin as selectors
from cases.services import customer_admin
from cases.views.helpers import run_service
from cases.views.lessons import site_url
from cases.views.portal import customer_admin_only

FORMS = {"invite": InviteUserForm, "contact": SecurityContactForm}


def _page(request, *, forms: dict | None = None, new_token: str = "", status: int = 200):
    organization = request.user.organization
    forms = {prefix: form_class(prefix=prefix) for prefix, form_class in FORMS.items()} | (forms or {})
    context = {
        "organization": organization,
        "users": selectors.organization_users(organization),
        "contacts": organization.security_contact_emails(),
        "changes": selectors.recent_changes(organization),
        "invite_form": forms["invite"],
        "contact_form": forms["contact"],
        "new_token": new_token,
        # On IRT_SITE_URL, never on the request's Host header (the rule of every feed link).
        "feed_urls": {"atom": site_url(reverse("portal:feed-atom")), "json": site_url(reverse("portal:feed-json"))},
    }
    return render(request, "portal/organization.html", context, status=status)


def _submit(request, prefix: str, service, *, success):
    """Validate the posted form, call the service with its data, and come back to the page (400 with the errors)."""
    form = FORMS[prefix](request.POST, prefix=prefix)
    if not form.is_valid():
        return _page(request, forms={prefix: form}, status=400)
    run_service(request, partial(service, request=request), success=success.format(**form.cleaned_data),
                by=request.user, **form.cleaned_data)
    return redirect("portal:organization")


@require_safe
@customer_admin_only
def organization(request):
    """Show the organisation's users, security contacts, feeds and recent changes."""
    return _page(request)


@require_POST
@customer_admin_only
def invite(request):
    return _submit(request, "invite", customer_admin.invite_user, success="Invitation sent to {email}.")


@require_POST
@customer_admin_only
def remove_user(request, username):
    member = get_member_for(request.user, username)
    run_service(request, partial(customer_admin.remove_user, request=request), by=request.user, member=member,
                success=f"{member.get_username()} can no longer sign in.")
    return redirect("portal:organization")


@require_POST
@customer_admin_only
def add_contact(request):
    return _submit(request, "contact", customer_admin.add_security_contact, success="{email} now receives security notices.")


@require_POST
@customer_admin_only
def remove_contact(request):
    return _submit(request, "contact", customer_admin.remove_security_contact,
                   success="{email} no longer receives security notices.")


@never_cache
@require_POST
@customer_admin_only
def rotate_feed_token(request):
    """Create a new read token and show it once; the previous one stops working."""
    token = customer_admin.rotate_feed_token(by=request.user, request=request)
    return _page(request, new_token=token)
