"""Errors the services raise; views turn each into a message a responder understands."""

from django.core.exceptions import PermissionDenied


class ActionRefused(Exception):
    """The action is not possible now; ``reasons`` says what to do first."""

    def __init__(self, reasons: list[str] | str):
        self.reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__(" ".join(self.reasons))


class NotAllowed(PermissionDenied):
    """The user's role does not allow the action on this case."""


class CaseChanged(Exception):
    """Someone else changed the case after the user loaded it."""

    def __init__(self, case):
        self.case = case
        super().__init__(
            f"{case.reference} changed while you were looking at it; it is now {case.get_status_display().lower()}. "
            "Check its current state and try again."
        )
