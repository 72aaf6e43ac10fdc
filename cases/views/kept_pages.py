"""Customer pages rendered once per version of what they show, with the per-request parts filled in (issue 18).

A kept page's key names everything the page shows: the reader (id, names, whether they administer
their organisation), the organisation (id, name), the navigation's inbox count and current page, and
what the view adds (the case's timeline head, the reader's acknowledgement, the overdue flag, the
rows of a list). Those are read on every request, so a change to any of them reads another key on
the next request: nothing needs invalidating, and what is kept for one reader or organisation is
never under another's key. Never kept: the CSRF token (a marker in the kept HTML, replaced by this
request's token), named *slots* the view renders on every request, and pages with messages waiting
(rendered whole). Access is decided by the view before any of this, on every request.
"""

import functools
import hashlib

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.safestring import mark_safe

# Each reader's own copy: kept briefly, so the cache holds pages of the readers of the last few minutes only.
KEPT_SECONDS = 300
# What the customer navigation shows from the context processors (``partials/nav_customer.html``).
NAVIGATION_VALUES = ("inbox_unread",)


@functools.cache
def _marker(name: str) -> str:
    # Derived from SECRET_KEY: the same in every process sharing the cache, and not something a reader can type
    # into a question to have the page fill in there.
    return f"irt-kept-{name}-{salted_hmac('irt.kept_pages.marker', name).hexdigest()[:20]}"


def _navigation_values(request) -> dict:
    offered = {}
    for processor in engines["django"].engine.template_context_processors:
        offered.update(processor(request))
    return {name: value() if callable(value) else value for name, value in offered.items() if name in NAVIGATION_VALUES}


def page_key(request, template_name: str, parts: tuple, navigation: dict) -> str:
    """Return the cache key of a kept page: the template, the reader, their organisation, the navigation, and ``parts``."""
    user = request.user
    organization = user.organization
    named = (
        template_name,
        ("reader", user.pk, user.username, user.get_full_name(), bool(user.is_customer_admin)),
        ("organization", organization.pk, organization.name),
        ("navigation", request.resolver_match.view_name if request.resolver_match else "", sorted(navigation.items())),
        ("page", parts),
    )
    return "portal:kept-page:" + hashlib.sha256(repr(named).encode()).hexdigest()


def render_kept(request, template_name: str, context, *, parts: tuple, slots: dict | None = None) -> HttpResponse:
    """Answer with the kept rendering of the page for ``parts``, or render and keep it; fill the CSRF token and ``slots`` in.

    ``context``: the template's context, or a function returning it (called only when the page is rendered).
    ``slots`` maps a context name to a function returning this request's HTML for it.
    """
    slots = slots or {}
    if not callable(context):
        context = functools.partial(dict, context)
    if len(get_messages(request)):
        filled = {name: mark_safe(fill()) for name, fill in slots.items()}  # noqa: S308 - rendered by our own templates
        return HttpResponse(render_to_string(template_name, {**context(), **filled}, request))
    navigation = _navigation_values(request)
    key = page_key(request, template_name, parts, navigation)
    html = cache.get(key)
    if html is None:
        markers = {name: mark_safe(_marker(f"slot-{name}")) for name in slots}  # noqa: S308 - letters, digits, dashes
        # The navigation's values as the key names them, not read again: a count that moved meanwhile is another key's.
        html = render_to_string(template_name, {**context(), **navigation, **markers, "csrf_token": _marker("csrf")}, request)
        cache.set(key, html, KEPT_SECONDS)
    for name, fill in slots.items():
        html = html.replace(_marker(f"slot-{name}"), fill())
    if _marker("csrf") in html:
        html = html.replace(_marker("csrf"), get_token(request))
    return HttpResponse(html)

