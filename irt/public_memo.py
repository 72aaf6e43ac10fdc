"""Public pages kept in this process's memory until a new version of what they show is published (issue 18).

With a shared cache (Redis), serving a kept public page cost a round trip for the page and its
version's generation on every request: about half the time of a whole trivial request. The fast path
(``irt.middleware``) keeps here each response it served from the shared cache, and serves it from
memory while this process hears PostgreSQL's notifications (``irt.listening``):
``PublishedVersion.invalidate`` notifies ``CHANNEL`` once the new generation is drawn, after its
transaction commits, and every process forgets everything kept here. A response read before that
notification is not kept (generation stamp); a kept one serves for at most ``MAX_AGE`` seconds, the
bound for a notification lost with the process that should have sent it.

Not used with a process-local cache (it already is this process's memory), on SQLite, or with
``IRT_PUBLIC_PAGE_MEMO=0``.
"""

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from irt import listening
from irt.near_cache import KeptCopies

CHANNEL = "irt_public_pages"
MAX_AGE = 60.0
MAX_KEPT = 1_000  # responses kept per process; past it, everything kept is dropped


class PublicPageMemo:
    def __init__(self):
        self._kept = KeptCopies(MAX_KEPT)
        listening.listener.subscribe(CHANNEL, lambda payload: self.forget_all())

    @staticmethod
    def switched_on() -> bool:
        return settings.IRT_PUBLIC_PAGE_MEMO and not isinstance(caches["default"], LocMemCache)

    def usable(self) -> bool:
        """Whether kept responses may serve: switched on, a shared cache, on PostgreSQL, and the listener heard from lately."""
        return self.switched_on() and listening.on_postgresql() and listening.listener.heard_lately(CHANNEL)

    def stamp(self) -> int:
        """Taken before the shared cache is read: ``keep`` refuses what was read if anything was forgotten since."""
        return self._kept.stamp()

    def get(self, key: str):
        """Return the request's own copy of the response kept under ``key``, or None."""
        return self._kept.get(key)

    def keep(self, key: str, stamp: int, response) -> None:
        self._kept.keep(key, response, MAX_AGE, stamp)

    def forget_all(self) -> None:
        self._kept.forget_all()


public_page_memo = PublicPageMemo()


def published(name: str) -> None:
    """Tell every process that ``name`` has a new version (call once its new generation is drawn)."""
    if public_page_memo.switched_on():
        listening.announce(CHANNEL, name)
