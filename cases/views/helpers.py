"""Small pieces shared by the staff views."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from cases import access
from cases.exceptions import ActionRefused, CaseChanged, NotAllowed


def staff_required(view):
    """Let in responders, managers, comms and admins; send customers to their portal."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if access.is_customer(request.user):
            return redirect("portal:index")
        if not access.is_staff_user(request.user):
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


def form_errors_to_messages(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ").capitalize() if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label and field != "__all__" else error)
