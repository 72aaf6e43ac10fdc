"""Extension points that later apps fill without ``cases`` importing them.

``notifications`` registers a close-blocker provider that answers "has every affected
organisation received its breach notice?"; ``cases`` only asks.
"""

from collections.abc import Callable

CloseBlockerProvider = Callable[["object"], list[str]]

_close_blocker_providers: list[CloseBlockerProvider] = []


def register_close_blockers(provider: CloseBlockerProvider) -> CloseBlockerProvider:
    """Register ``provider(case) -> reasons`` as an extra guard on closing a case."""
    if provider not in _close_blocker_providers:
        _close_blocker_providers.append(provider)
    return provider


def registered_close_blocker_providers() -> tuple[CloseBlockerProvider, ...]:
    return tuple(_close_blocker_providers)


def close_blockers(case) -> list[str]:
    reasons: list[str] = []
    for provider in _close_blocker_providers:
        reasons.extend(provider(case))
    return reasons


class ProviderList:
    """Providers of one hook, each registered once, whose answers are concatenated in order.

    The close-blocker hook above predates it (its tests replace the raw list); the others use it.
    """

    def __init__(self) -> None:
        self._providers: list[Callable[..., list]] = []

    def register(self, provider: Callable[..., list]) -> Callable[..., list]:
        if provider not in self._providers:
            self._providers.append(provider)
        return provider

    def answers(self, *args) -> list:
        return [answer for provider in self._providers for answer in provider(*args)]


# An exposure provider answers, for a withdrawn organisation, what reached its people while it
# had access: ``provider(row, since) -> [{"who": str, "what": str, "at": datetime}, ...]``.
ExposureProvider = Callable[["object", "object"], list[dict]]

_exposure_providers = ProviderList()


def register_exposure_provider(provider: ExposureProvider) -> ExposureProvider:
    """Register ``provider(row, since)`` as a source of what reached an organisation."""
    return _exposure_providers.register(provider)


def exposure(row, since) -> list[dict]:
    return _exposure_providers.answers(row, since)


# A delivery receipt provider lists what was sent to a case's affected organisations and what
# became of each send, for the staff report: ``provider(case) -> [{"organization": str,
# "channel": str, "recipient": str, "kind": str, "status": code, "status_label": str,
# "delivered_at": datetime | None, "attempts": int, "message_id": str}, ...]``. Never shown to customers: the list names every
# organisation's addresses.
_delivery_receipt_providers = ProviderList()


def register_delivery_receipt_provider(provider: Callable[["object"], list[dict]]) -> Callable[["object"], list[dict]]:
    """Register ``provider(case)`` as a source of the case's delivery receipts."""
    return _delivery_receipt_providers.register(provider)


def case_delivery_receipts(case) -> list[dict]:
    """Return the case's delivery receipts from every provider; none when no app sends notices."""
    return _delivery_receipt_providers.answers(case)


# A dead-delivery provider lists, for the staff dashboard, the newest sends that ended dead which
# ``user`` may see: ``provider(user, limit) -> [{"title": str, "recipient": str, "case": str
# (reference or ""), "error": str, "at": datetime, "url": str}, ...]``, at most ``limit`` rows.
_dead_delivery_providers = ProviderList()


def register_dead_delivery_provider(provider: Callable[["object", int], list[dict]]) -> Callable[["object", int], list[dict]]:
    """Register ``provider(user, limit)`` as a source of the dashboard's dead deliveries."""
    return _dead_delivery_providers.register(provider)


def dead_deliveries(user, limit: int) -> list[dict]:
    """Return the dead deliveries ``user`` may see, newest first; none when no app sends anything."""
    return _dead_delivery_providers.answers(user, limit)


# A demo seeder adds an app's own demo data once ``seed_demo`` made the users and cases:
# ``provider(users) -> [str, ...]`` (``users`` by username; the lines say what it made). It must be
# idempotent, as ``seed_demo`` is.
_demo_seeders = ProviderList()


def register_demo_seeder(provider: Callable[[dict], list[str]]) -> Callable[[dict], list[str]]:
    """Register ``provider(users)`` as a part of the demo data ``cases`` cannot make itself."""
    return _demo_seeders.register(provider)


def seed_demo_extras(users: dict) -> list[str]:
    """Run every registered demo seeder; return what each says it made."""
    return _demo_seeders.answers(users)
