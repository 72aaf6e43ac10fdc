"""Small pieces shared by the staff views."""

from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from cases.access.lookups import get_case_for
from cases.access.permissions import is_customer, is_staff_user
from cases.models.exceptions import ActionRefused, CaseChanged, NotAllowed


def staff_required(view):
    """Let in responders, managers, comms and admins; send customers to their portal."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if is_customer(request.user):
            return redirect("portal:index")
        if not is_staff_user(request.user):
            raise PermissionDenied("Your account has no role on the response team.")
        # AccountSecurityMiddleware sends unverified staff to the second factor first; this is
        # the second lock on the same door, should a view ever be reached some other way.
        is_verified = getattr(request.user, "is_verified", None)
        if not (is_verified and is_verified()):
            return redirect_to_login(request.get_full_path(), login_url="account:mfa-verify")
        return view(request, *args, **kwargs)

    return wrapper


def run_service(request, func, *, success: str, **kwargs):
    """Call a service and turn its refusals into messages; return the result or None."""
    try:
        result = func(**kwargs)
    except CaseChanged as exc:
        messages.error(request, str(exc))
        return None
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    except ActionRefused as exc:
        for reason in exc.reasons:
            messages.error(request, reason)
        return None
    if success:
        messages.success(request, success)
    return result if result is not None else True


def submit_form(request, form, service, *, success, invalid: str = "", **kwargs):
    """Validate a bound form, call one service with its data, and say how it went in messages.

    The service gets ``kwargs`` and the form's cleaned data; a ``VersionedForm``'s ``version``
    arrives as ``expected_version``. ``success`` is the message, or a function of the cleaned
    data that returns it. An invalid form becomes one message per error, or ``invalid`` alone.
    Return what ``run_service`` returns, or None for an invalid form: the caller redirects.
    """
    if not form.is_valid():
        if invalid:
            messages.error(request, invalid)
        else:
            form_errors_to_messages(request, form)
        return None
    data = dict(form.cleaned_data)
    if "version" in data:
        data["expected_version"] = data.pop("version")
    return run_service(request, service, success=success(data) if callable(success) else success, **kwargs, **data)


def cleaned_or_messages(request, form) -> dict | None:
    """Return a bound form's cleaned data; or, when it is invalid, put its errors in messages and return None.

    For POST-and-redirect views: the page the user returns to shows the messages, nothing changed.
    """
    if form.is_valid():
        return form.cleaned_data
    form_errors_to_messages(request, form)
    return None


def form_errors_to_messages(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ").capitalize() if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label and field != "__all__" else error)


@dataclass(frozen=True)
class CaseRow:
    """A row of a case that a URL names, and the keyword its service takes it by.

    The URL argument ``url_kwarg`` holds the row's ``lookup`` value; none when a case has at most one
    such row. ``case_path`` leads from the row to its case, so a row of another case is a 404; it is
    empty for a row that belongs to no case, such as a member's user account, which the service then
    gets together with the case.
    """

    model: type
    keyword: str
    url_kwarg: str | None = None
    lookup: str = "pk"
    case_path: str = "case"

    def get(self, case, url_kwargs: dict):
        """Return the row the URL names; 404 when the case has no such row."""
        filters = {self.case_path: case} if self.case_path else {}
        if self.url_kwarg:
            filters[self.lookup] = url_kwargs[self.url_kwarg]
        return get_object_or_404(self.model, **filters)

    def service_kwargs(self, case, url_kwargs: dict) -> dict:
        """Return what the service is called with: the row, and the case too when the row is not of a case."""
        found = {self.keyword: self.get(case, url_kwargs)}
        return found if self.case_path else {"case": case, **found}


def case_action(service, *, success, form=None, row: CaseRow | None = None, write: bool = True, invalid: str = "",
                form_takes_case: bool = False, follow_up=None):
    """Return a POST-only staff view that runs one service on a case, or on a row of it, then shows the case.

    The case comes through the access lookup: ``write`` asks for the right to change it, while approvals
    and confirmations, often by someone outside the case, ask only to see it and leave the rest to the
    service. The service gets ``by``, the case or the ``row`` (``CaseRow.service_kwargs``), and with a
    ``form`` its cleaned data (``submit_form``, with ``invalid``); without one it runs at once
    (``run_service``). ``success`` is formatted with the case or row (``"{row.organization} confirmed."``),
    or is a function of the cleaned data. ``follow_up(request, result, form)`` says more once the service
    has succeeded. ``form_takes_case`` builds the form with the case, for choices drawn from it.
    """

    @staff_required
    @require_POST
    def view(request, reference, **url_kwargs):
        case = get_case_for(request.user, reference, write=write)
        target = row.service_kwargs(case, url_kwargs) if row else {"case": case}
        message = success if callable(success) else success.format(**target)
        bound = None
        if form is None:
            result = run_service(request, service, success=message, by=request.user, **target)
        else:
            bound = form(request.POST, case=case) if form_takes_case else form(request.POST)
            result = submit_form(request, bound, service, success=message, invalid=invalid, by=request.user, **target)
        if result and follow_up:
            follow_up(request, result, bound)
        return redirect(case)

    return view
