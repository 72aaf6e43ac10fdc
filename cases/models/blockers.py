"""What blocks an action: a reason in words a responder understands, with a code templates test."""


class Blocker(str):
    """One reason an action is blocked: the text (``str()``), plus a stable ``code``.

    A ``str`` subclass rather than a pair, so every place that shows, joins, compares or
    serialises reasons keeps working unchanged, while templates and code test ``code``,
    never prose (another app's wording may change).
    """

    code: str

    def __new__(cls, code: str, text: str) -> "Blocker":
        blocker = super().__new__(cls, text)
        blocker.code = code
        return blocker

    def __repr__(self) -> str:
        return f"Blocker({self.code!r}, {str(self)!r})"

    def __reduce__(self):
        return (Blocker, (self.code, str(self)))

    @property
    def text(self) -> str:
        return str(self)

    @classmethod
    def of(cls, reason: str, code: str = "other") -> "Blocker":
        """Return ``reason`` as a Blocker, keeping its code if it already has one."""
        return reason if isinstance(reason, Blocker) else cls(code, reason)


def codes(reasons) -> set[str]:
    """Return the codes of ``reasons`` (plain strings count as ``other``)."""
    return {Blocker.of(reason).code for reason in reasons}
