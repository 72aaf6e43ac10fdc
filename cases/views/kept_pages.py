"""Pages rendered once per version of what they show, with the per-request parts filled in (issue 18).

A kept page's key names everything the page shows: the reader (for a customer: id, names, whether
they administer their organisation, and the organisation; for staff: everything their rights on the
page come from), the navigation's values and current page, and what the view adds (the case's row
and timeline head, the reader's acknowledgement, the overdue flag, the rows of a list). Those are
read on every request, so a change to any of them reads another key on the next request: nothing
needs invalidating, and what is kept for one reader or organisation is never under another's key.

Never kept: the CSRF token (a marker in the kept HTML, replaced by this request's token), and pages
with messages waiting (rendered whole). Named *slots* show what changes without the key
(``slots={name: fill}``; a slot with an argument, such as one per table row, is written
``slot_marker(name, arg)`` in the context and filled by ``fill(arg)``): they are rendered per request,
or, where the view says they show nothing that changes with time alone (``keep_slots``), kept by
``irt.watched_reads`` until a table they read changes. A slot renders its template with
``render_slot``: its CSRF token too is a marker. A page whose content changes with
time alone says until when it holds (``fresh_until``); after that moment it is rendered again. Access
is decided by the view before any of this, on every request.
"""

import contextlib
import functools
import hashlib
import pickle
import re

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.safestring import mark_safe

from irt.near_cache import near_cache
from irt.watched_reads import watched_reads

# Each reader's own copy: kept briefly, so the cache holds pages of the readers of the last few minutes only.
KEPT_SECONDS = 300
# What the customer navigation shows from the context processors (``partials/nav_customer.html``).
NAVIGATION_VALUES = ("inbox_unread",)
# What the staff navigation shows from them (``partials/nav_staff.html``).
STAFF_NAVIGATION_VALUES = ("inbox_unread", "viewer_sees_deliveries", "viewer_role", "viewer_is_staff", "viewer_is_customer")


@functools.cache
def _prefix() -> str:
    # Derived from SECRET_KEY: the same in every process sharing the cache, and not something a reader can type
    # into a question to have the page fill in there.
    return f"irt-kept-{salted_hmac('irt.kept_pages.marker', 'marker').hexdigest()[:20]}"


def _marker(name: str, arg="") -> str:
    return f"{_prefix()}:{name}:{arg}:"


@functools.cache
def _marker_pattern():
    return re.compile(re.escape(_prefix()) + r":([a-z0-9_-]+):([0-9a-z_-]*):")


def slot_marker(name: str, arg) -> str:
    """Return the marker of slot ``name`` for ``arg`` (letters, digits, ``_`` and ``-``), filled by the slot's ``fill(arg)``."""
    return mark_safe(_marker(f"slot-{name}", arg))  # noqa: S308 - letters, digits, dashes and colons


def _navigation_values(request, names=NAVIGATION_VALUES) -> dict:
    offered = {}
    for processor in engines["django"].engine.template_context_processors:
        offered.update(processor(request))
    return {name: value() if callable(value) else value for name, value in offered.items() if name in names}


def customer_reader(user) -> tuple:
    """Return what names a customer reader in a kept page's key: who they are and their organisation."""
    organization = user.organization
    return (
        ("reader", user.pk, user.username, user.get_full_name(), bool(user.is_customer_admin)),
        ("organization", organization.pk, organization.name),
    )


# The code that renders kept pages: the templates, the Python of the apps that fill them, and the static files
# whose hashed names the pages link (a kept page naming a stylesheet the deploy replaced would be unstyled).
RENDERING_SOURCES = ("templates", "cases", "notifications", "irt", "static")
RENDERING_SUFFIXES = frozenset({".py", ".html", ".txt", ".css", ".js"})


@functools.cache
def deployed_code() -> str:
    """Return a digest of the templates and code this process renders with, read once per process.

    Part of every kept page's key, so a deploy that changes a template or a view never serves a copy
    the code before it rendered (in a shared cache, the old copies would otherwise live on for up to
    ``KEPT_SECONDS``). Every process of one deploy reads the same files, so they share their copies.
    """
    digest = hashlib.sha256()
    for top in RENDERING_SOURCES:
        for path in sorted((settings.BASE_DIR / top).rglob("*")):
            if path.suffix in RENDERING_SUFFIXES and "migrations" not in path.parts and path.is_file():
                digest.update(str(path.relative_to(settings.BASE_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def page_key(request, template_name: str, parts: tuple, navigation: dict, *, reader: tuple | None = None) -> str:
    """Return the cache key of a kept page: the code, the template, the reader (a customer's by default), the navigation, and ``parts``."""
    named = (
        deployed_code(),
        template_name,
        *(customer_reader(request.user) if reader is None else reader),
        ("navigation", request.resolver_match.view_name if request.resolver_match else "", sorted(navigation.items())),
        ("page", parts),
    )
    # "2": the entries are (pieces, fresh until); the plain HTML strings kept before must never be read as such.
    # Pickled, not repr()'d: the same key, a tenth of the time (a list's fifty rows of dates took 0.17 ms). Two values
    # that differ never pickle alike; two equal ones that pickle differently (shared objects) only miss.
    return "kept-page:2:" + hashlib.sha256(pickle.dumps(named, pickle.HIGHEST_PROTOCOL)).hexdigest()


def _split(html: str) -> list:
    """Return the kept HTML as text and ``(name, arg)`` markers, alternating, so a request fills it in one join."""
    pieces = _marker_pattern().split(html)
    return [pieces[0], *[item for i in range(1, len(pieces), 3) for item in ((pieces[i], pieces[i + 1]), pieces[i + 2])]]


def response_csrf_token(request) -> str:
    """This request's masked CSRF token, masked once for the whole response, as one Django render masks it once.

    Masking draws 32 random characters from the system's random source (``secrets``), one call
    each; a kept page with a form in a slot masked twice. The token is masked anew if the secret
    was rotated (a sign-in) since.
    """
    masked = getattr(request, "_irt_masked_csrf", None)
    if masked is None or masked[0] != request.META.get("CSRF_COOKIE"):
        token = get_token(request)  # sets the secret when the request had none
        request._irt_masked_csrf = masked = (request.META["CSRF_COOKIE"], token)
    return masked[1]


def render_slot(request, template_name: str, context: dict) -> str:
    """Render a slot's template with the response's CSRF token, which a kept slot holds as a marker (``_filled_slots``)."""
    return render_to_string(template_name, {**context, "csrf_token": response_csrf_token(request)}, request)


@contextlib.contextmanager
def _csrf_as_marker(request):
    """While slots render, ``response_csrf_token`` answers the marker: a kept slot must never hold one response's token."""
    saved = getattr(request, "_irt_masked_csrf", None)
    request._irt_masked_csrf = (request.META.get("CSRF_COOKIE"), _marker("csrf"))
    try:
        yield
    finally:
        request._irt_masked_csrf = saved


def _filled_slots(request, pieces: list, slots: dict, key: str | None) -> dict:
    """Return each slot marker's HTML, split around CSRF markers; kept under ``key`` until a table it read changes.

    All the page's slots together, so that what a slot rendered from rows another one read is kept
    and forgotten with what read them (``irt.watched_reads``).
    """
    wanted = [piece for piece in pieces[1::2] if piece[0] != "csrf"]
    if not wanted:
        return {}
    if key is None:  # nothing of it is kept: no recording, and the slots hold this response's token itself
        return _rendered_slots(slots, wanted)
    kept = watched_reads.get(key)
    if kept is not None:
        return kept
    with watched_reads.recording() as keep, _csrf_as_marker(request):
        filled = _rendered_slots(slots, wanted)
        # A token rendered outside render_slot (Django's own {% csrf_token %} context) is this response's: never kept.
        tokens = sum(str(part).count("csrfmiddlewaretoken") for pieces_ in filled.values() for part in pieces_[::2])
        markers = sum(1 for pieces_ in filled.values() for part in pieces_[1::2] if part[0] == "csrf")
        if tokens == markers:
            keep(key, filled)
    return filled


def _rendered_slots(slots: dict, wanted: list) -> dict:
    filled = {}
    for name, arg in wanted:
        fill = slots[name.removeprefix("slot-")]
        filled[(name, arg)] = _split(str(fill(arg) if arg else fill()))
    return filled


def _fill(request, pieces: list, slots: dict, key: str | None = None) -> str:
    filled = _filled_slots(request, pieces, slots, key)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            out.append(piece)
        elif piece[0] == "csrf":
            out.append(response_csrf_token(request))
        else:
            for j, part in enumerate(filled[piece]):
                out.append(part if j % 2 == 0 else response_csrf_token(request))
    return "".join(out)


def render_kept(request, template_name: str, context, *, parts: tuple, slots: dict | None = None, reader: tuple | None = None,
                navigation_values=NAVIGATION_VALUES, fresh_until=None, keep: bool = True, keep_slots: bool = False,
                status: int = 200) -> HttpResponse:
    """Answer with the kept rendering of the page for ``parts``, or render and keep it; fill the CSRF token and ``slots`` in.

    ``context``: the template's context, or a function returning it (called only when the page is rendered).
    ``slots`` maps a context name to a function returning this request's HTML for it; a slot written with
    ``slot_marker(name, arg)`` is filled by ``fill(arg)`` (``arg`` as a string).
    ``reader``: what names the reader in the key (``customer_reader`` when None).
    ``fresh_until(context, started)``: the first moment after ``started`` (when rendering began) at which the page
    changes with time alone, or None; the kept page is not served from that moment on.
    ``keep=False`` renders the page whole and keeps nothing, as a page with messages waiting is.
    ``keep_slots=True``: the slots show only what they read from the database (nothing that changes with time alone),
    so they may be kept until a table they read changes (``irt.watched_reads``); otherwise they are filled per request.
    """
    slots = slots or {}
    if not callable(context):
        context = functools.partial(dict, context)
    whole = not keep or len(get_messages(request))
    kept = None
    if not whole:
        navigation = _navigation_values(request, navigation_values)
        key = page_key(request, template_name, parts, navigation, reader=reader)
        kept = near_cache.get_fixed(key)  # the key names everything the page shows: a copy here needs no invalidating
        if kept is not None and kept[1] is not None and timezone.now() >= kept[1]:
            kept = None
    if kept is None:
        started = timezone.now()
        values = context()
        markers = {name: mark_safe(_marker(f"slot-{name}")) for name in slots if name not in values}  # noqa: S308 - letters, digits
        if whole:
            # Rendered for this request alone, this request's token in place: nothing of it is kept.
            return HttpResponse(_fill(request, _split(render_to_string(template_name, {**values, **markers}, request)), slots),
                                status=status)
        # The navigation's values as the key names them, not read again: a count that moved meanwhile is another key's.
        html = render_to_string(template_name, {**values, **navigation, **markers, "csrf_token": _marker("csrf")}, request)
        kept = (_split(html), fresh_until(values, started) if fresh_until else None)
        near_cache.set_fixed(key, kept, KEPT_SECONDS)
    return HttpResponse(_fill(request, kept[0], slots, f"{key}:slots" if keep_slots else None), status=status)
