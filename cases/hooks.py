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
