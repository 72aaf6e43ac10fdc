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


# An exposure provider answers, for a withdrawn organisation, what reached its people while it
# had access: ``provider(row, since) -> [{"who": str, "what": str, "at": datetime}, ...]``.
ExposureProvider = Callable[["object", "object"], list[dict]]

_exposure_providers: list[ExposureProvider] = []


def register_exposure_provider(provider: ExposureProvider) -> ExposureProvider:
    """Register ``provider(row, since)`` as a source of what reached an organisation."""
    if provider not in _exposure_providers:
        _exposure_providers.append(provider)
    return provider


def exposure(row, since) -> list[dict]:
    found: list[dict] = []
    for provider in _exposure_providers:
        found.extend(provider(row, since))
    return found
