"""What every endpoint module uses: the case lookup through the access rules, and scope names."""

from cases.access.lookups import get_case_for
from cases.models import ApiToken

READ_CASES = {"read": ApiToken.Scope.CASES_READ, "write": ApiToken.Scope.CASES_WRITE}


def case_for(request, reference: str, *, write: bool = False, queryset=None):
    """Return the case for the token's user: 404 if they may not know it, 403 if they may not change it."""
    return get_case_for(request.user, reference, write=write, queryset=queryset)
