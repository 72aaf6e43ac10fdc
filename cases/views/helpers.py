"""Small pieces shared by the staff views."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

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


def form_errors_to_messages(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ").capitalize() if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label and field != "__all__" else error)
