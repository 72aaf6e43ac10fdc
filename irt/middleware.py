"""Site-wide response headers: what Django's SecurityMiddleware does not set, and who may cache a page."""

import functools
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.cache import cc_delim_re, get_conditional_response, quote_etag
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.cache import cache_control

from irt import public_memo
from irt.cache import Generations

# No inline script or style anywhere in the templates, so the policy can stay strict.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Django 5.2 admin has no inline script or style either, so it gets the same policy.
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


# -- caching: public pages are the same for every reader -----------------------------------

PUBLIC_PAGE_ATTR = "irt_public_page"
PUBLIC_GENERATION_ATTR = "irt_public_generation"
SIGNED_IN_CACHE_CONTROL = "private, no-store"


def public_page(*, max_age: int, etag=None, last_modified=None):
    """Mark a view as a public page: ``Cache-Control: public``, and never a cookie set or varied on.

    The mark is what ``CacheHeadersMiddleware`` and the account-security middleware read, so one
    decorator decides that a page may be cached by a CDN and shared between readers. ``etag``
    (and ``last_modified``) take the view's arguments and name the version of what the page
    shows; a reader who has that version gets a 304, and every other reader gets the one
    rendering of it kept in Django's cache (see ``_rendered_once_per_version``).
    """

    def decorator(view_func):
        view = _rendered_once_per_version(view_func, etag, last_modified) if etag else view_func
        view = cache_control(public=True, max_age=max_age)(view)
        setattr(view, PUBLIC_PAGE_ATTR, True)
        return view

    return decorator


# A version's rendering is kept this long; a new version gets a new key, so nothing is ever stale.
RENDERED_PAGE_SECONDS = 3600


def _rendered_once_per_version(view_func, etag_func, last_modified_func):
    """Django's ``condition`` plus one rendering per (path, version) shared by every reader.

    The key is the path and query with the version's tag, never the Host header: public pages
    build their links on ``IRT_SITE_URL``, so any host gets the same page and no client can plant
    a copy for another.
    """

    @functools.wraps(view_func)
    def view(request, *args, **kwargs):
        tag = etag_func(request, *args, **kwargs)
        if tag is None:
            return view_func(request, *args, **kwargs)
        etag = quote_etag(tag)
        modified = last_modified_func(request, *args, **kwargs) if last_modified_func else None
        stamp = int(modified.timestamp()) if modified else None
        response = get_conditional_response(request, etag=etag, last_modified=stamp)
        if response is None:
            key = "public-page:" + hashlib.sha256(f"{request.get_full_path()}|{etag}".encode()).hexdigest()
            response = cache.get(key)
            if response is None:
                response = view_func(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming:
                    return response
                cache.set(key, response, RENDERED_PAGE_SECONDS)
        response.headers.setdefault("ETag", etag)
        if stamp is not None:
            response.headers.setdefault("Last-Modified", http_date(stamp))
        return response

    return view


class PublishedVersion:
    """The version of some public content, read from the cache so a cached page costs no query.

    ``compute()`` reads the version from the database (a deterministic stamp, the same in every
    process, so ETags agree between workers). It is kept with a *generation* (``irt.cache.Generations``):
    ``invalidate()`` (called where the content changes) draws a new one, at once and again when the
    transaction commits, and the fast path below serves a kept page only while its generation is current.
    """

    generations = Generations("public-version")

    def __init__(self, name: str, compute):
        self.name = name
        self.compute = compute

    @classmethod
    def generation_of(cls, name: str):
        return cls.generations.generation(name)

    @classmethod
    def generation_key_of(cls, name: str) -> str:
        return cls.generations.generation_key(name)

    def get(self, request=None):
        """Return the version; with ``request``, mark it as rendered under this generation (the fast path's key)."""
        version, generation = self.generations.get_with_generation(self.name, self.compute)
        if request is not None and generation is not None:
            setattr(request, PUBLIC_GENERATION_ATTR, (self.name, generation))
        return version

    def invalidate(self) -> None:
        """Draw a new generation (now and on commit), then tell every process to forget the pages it keeps in memory."""
        self.generations.forget([self.name])
        # Registered after ``forget``'s own: a process that hears this reads the new generation.
        transaction.on_commit(functools.partial(public_memo.published, self.name))


def is_public_view(view_func) -> bool:
    return bool(getattr(view_func, PUBLIC_PAGE_ATTR, False))


def is_public_request(request) -> bool:
    return bool(getattr(request, PUBLIC_PAGE_ATTR, False))


class CacheHeadersMiddleware:
    """Keep public pages free of cookies; make every signed-in response ``private, no-store``.

    It sits outside the session, CSRF and message middleware so it sees their cookies and
    ``Vary`` after they have added them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = _path_of(request)
        asks_cache = request.method == "GET" and path not in _NOT_PUBLIC_PATHS
        if asks_cache:
            kept = _kept_public_response(request, path)
            if kept is not None:
                return kept
        response = self.get_response(request)
        if asks_cache and not is_public_request(request):
            _remember(_NOT_PUBLIC_PATHS, path, True)
        if is_public_request(request):
            # One cached copy serves everyone, so nothing in it may belong to one reader.
            response.cookies.clear()
            if response.has_header("Vary"):
                kept = [value for value in cc_delim_re.split(response["Vary"]) if value and value.lower() != "cookie"]
                if kept:
                    response["Vary"] = ", ".join(kept)
                else:
                    del response["Vary"]
            _keep_public_response(request, response)
        elif self._signed_in(request) and "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = SIGNED_IN_CACHE_CONTROL
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        setattr(request, PUBLIC_PAGE_ATTR, is_public_view(view_func))

    @staticmethod
    def _signed_in(request) -> bool:
        session = getattr(request, "session", None)
        if session is None:
            return False
        # Without a session cookie (and no sign-in during this request) the reader is anonymous:
        # not asking keeps anonymous responses from loading the session.
        if settings.SESSION_COOKIE_NAME not in request.COOKIES and not session.modified:
            return False
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated)


# -- the fast path: a public page of the current version, answered before the inner middleware --

# Paths whose view is not public, so whose answers are never kept: asking the cache for one is a
# wasted read, a Redis round trip on every signed-in page (issue 18). Which view a path resolves
# to is the URLconf's, fixed for the life of the process; a public path is never added (its view
# marks the request, even when it fails). Bounded against a flood of made-up paths.
_NOT_PUBLIC_PATHS: dict[tuple[str, str], bool] = {}
# The version each public path shows, as the kept responses say (as fixed as the view a path resolves to):
# knowing it, the fast path reads the response and the version's generation in one round trip.
_VERSION_OF_PATH: dict[tuple[str, str], str] = {}
PATHS_KEPT = 10_000  # paths each of the two memos holds before starting over


def _path_of(request) -> tuple[str, str]:
    return (str(getattr(request, "urlconf", None) or settings.ROOT_URLCONF), request.path)


def _remember(memo: dict, path: tuple[str, str], value) -> None:
    if len(memo) >= PATHS_KEPT:
        memo.clear()
    memo[path] = value


def _public_response_key(request) -> str:
    return "public-response:" + hashlib.sha256(request.get_full_path().encode()).hexdigest()


def _keep_public_response(request, response) -> None:
    """Keep a public page's finished response with the generation of the version it shows.

    Only pages whose version is a ``PublishedVersion`` are kept (the view marked the request), only
    whole 200 answers to GET, and only after the cookies and ``Vary: Cookie`` are gone.
    """
    marked = getattr(request, PUBLIC_GENERATION_ATTR, None)
    if (marked is None or request.method != "GET" or response.status_code != 200 or response.streaming
            or not response.has_header("ETag")):
        return
    name, generation = marked
    # One piece of content, not the many small writes a feed generator leaves (each one a write to
    # the socket on every later answer: the feed ran at half the rate of the lessons page).
    response.content = response.content
    cache.set(_public_response_key(request), (name, generation, response), Generations.seconds())


def _kept_public_response(request, path: tuple[str, str]):
    """Return the kept response for this path while its version's generation is current (a 304 when the reader has it).

    Nothing inside this middleware runs (sessions, CSRF, authentication, URL resolution): a public
    page reads none of them, and the kept response already carries the headers they and the
    security middleware added. The Host header is still checked against ``ALLOWED_HOSTS``.
    """
    key = _public_response_key(request)
    in_memory = public_memo.public_page_memo.usable()
    if in_memory:
        response = public_memo.public_page_memo.get(key)
        if response is not None:
            return _answer_with(request, response)
        stamp = public_memo.public_page_memo.stamp()
    name = _VERSION_OF_PATH.get(path)
    if name is None:
        kept = cache.get(key)
        current = None if kept is None else PublishedVersion.generation_of(kept[0])
    else:  # the response and its version's generation in one round trip
        generation_key = PublishedVersion.generation_key_of(name)
        found = cache.get_many([key, generation_key])
        kept, current = found.get(key), found.get(generation_key)
    if kept is None:
        return None
    kept_name, generation, response = kept
    if kept_name != name:
        if name is not None:  # not expected (a path shows one version): ask for the one it was kept with
            current = PublishedVersion.generation_of(kept_name)
        _remember(_VERSION_OF_PATH, path, kept_name)
    if current != generation:
        return None
    if in_memory:
        public_memo.public_page_memo.keep(key, stamp, response)
    return _answer_with(request, response)


def _answer_with(request, response):
    """Answer with a kept public response, or a 304 when the reader has its version."""
    request.get_host()  # DisallowedHost (400) for a host the site does not serve, as on the full path
    setattr(request, PUBLIC_PAGE_ATTR, True)
    last_modified = response.get("Last-Modified")
    return get_conditional_response(
        request, etag=response["ETag"], response=response,
        last_modified=parse_http_date_safe(last_modified) if last_modified else None,
    )
