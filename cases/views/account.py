"""The signed-in person's own account: the second factor step, enrolment, backup codes, lockout page."""

import hashlib
from io import BytesIO

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import PasswordResetConfirmView, PasswordResetView
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from cases.access.permissions import is_customer
from cases.views.middleware import MFA_REQUIRED_KEY
from cases.models import SecurityEvent
from cases.services import mfa, security_log, sessions


class SecondFactorForm(forms.Form):
    otp_token = forms.CharField(
        label="Code", max_length=64, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
    )


class EnrolmentForm(forms.Form):
    otp_token = forms.CharField(
        label="Code from the app", max_length=64, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}, require_https=request.is_secure()):
        return candidate
    return default


def _landing(request) -> str:
    return "/portal/" if is_customer(request.user) else "/"


def locked_out(request, original_response=None, credentials=None):
    """Answer a locked-out username or address: the same page whether or not the account exists."""
    if request.user.is_authenticated:
        logout(request)
    return _locked_page(request)


def _locked_page(request):
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


def _credentials(user) -> dict:
    return {"username": user.get_username(), "second_factor": True}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    """Ask for the second factor after the password; wrong codes count toward the lockout."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request, _landing(request)))
    if not mfa.has_mfa(user):
        return redirect("account:mfa-setup")
    if not AxesProxyHandler.is_allowed(request, _credentials(user)):
        return locked_out(request)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa.verify_second_factor(user=user, token=form.cleaned_data["otp_token"])
        if device is not None:
            django_otp.login(request, device)
            # A new privilege level gets a new session key, as a sign-in does.
            request.session.cycle_key()
            sessions.reset_failures(username=user.get_username(), request=request)
            security_log.record_event(SecurityEvent.Kind.MFA_VERIFIED, request=request, user=user,
                                  detail=type(device).__name__)
            if device.name == mfa.BACKUP_DEVICE_NAME:
                left = mfa.remaining_backup_codes(user)
                security_log.record_event(SecurityEvent.Kind.BACKUP_CODE_USED, request=request, user=user,
                                      detail=f"{left} left")
                messages.warning(request, f"You used a backup code; {left} left. Create new ones when you run low.")
            return redirect(_next_url(request, _landing(request)))
        user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        form.add_error("otp_token", "That code did not work. Try the newest code from your app.")
    elif request.method == "POST":
        user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
    return render(request, "registration/mfa_verify.html", {"form": form, "next": _next_url(request, "")})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    """Add an authenticator app (required for staff, optional for customers), or manage it."""
    user = request.user
    enrolled = mfa.has_mfa(user)
    if enrolled and not user.is_verified():
        # Someone holding only the password must not be able to swap in their own authenticator.
        return redirect("account:mfa-verify")
    if enrolled:
        return render(request, "registration/mfa_manage.html", {
            "backup_codes_left": mfa.remaining_backup_codes(user),
            "may_disable": not mfa.is_staff_account(user),
        })
    device = mfa.start_totp_enrolment(user=user)
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = mfa.confirm_totp_enrolment(user=user, token=form.cleaned_data["otp_token"], request=request)
        if result is not None:
            confirmed, codes = result
            # The service has ended the user's other sessions and given this one a new key.
            django_otp.login(request, confirmed)
            request.session[MFA_REQUIRED_KEY] = True
            sessions.reset_failures(username=user.get_username(), request=request)
            return render(request, "registration/mfa_backup_codes.html", {
                "codes": codes, "next": _next_url(request, _landing(request)), "first_time": True,
            })
        form.add_error("otp_token", "That code did not match. Check the time on your phone and try the newest code.")
    return render(request, "registration/mfa_setup.html", {
        "form": form, "secret": mfa.secret_base32(device), "next": _next_url(request, ""),
        "required": mfa.is_staff_account(user),
    })


@never_cache
@login_required
def mfa_qr(request):
    """Return the QR code (SVG) of the pending authenticator, never of a confirmed one."""
    import qrcode
    import qrcode.image.svg

    user = request.user
    if mfa.has_mfa(user) and not user.is_verified():
        return HttpResponse(status=404)
    device = mfa.totp_device(user, confirmed=False)
    if device is None:
        return HttpResponse(status=404)
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    buffer = BytesIO()
    image.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
@require_POST
def mfa_backup_codes(request):
    """Replace the backup codes and show the new ones once."""
    if not request.user.is_verified():
        return redirect("account:mfa-verify")
    codes = mfa.create_backup_codes(user=request.user, request=request)
    return render(request, "registration/mfa_backup_codes.html", {"codes": codes, "next": _landing(request)})


@never_cache
@login_required
@require_POST
def mfa_disable(request):
    """Let a customer turn two-factor sign-in off; staff cannot."""
    user = request.user
    if mfa.is_staff_account(user):
        return HttpResponse("Two-factor sign-in is required for staff.", status=403, content_type="text/plain")
    if not user.is_verified():
        return redirect("account:mfa-verify")
    mfa.disable_mfa(user=user, request=request)
    request.session[MFA_REQUIRED_KEY] = False
    messages.success(request, "Two-factor sign-in is off.")
    return redirect("account:mfa-setup")


class LockedSignInForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(max_length=4096, strip=False)
    otp_token = forms.CharField(max_length=64, strip=True)


@never_cache
@require_POST
def sign_in_with_code(request):
    """Let the owner of a locked username through with the password and a second-factor code together.

    Every refusal is the lockout page, word for word, whether the account exists or not.
    """
    form = LockedSignInForm(request.POST)
    found = None
    if form.is_valid():
        found = mfa.sign_in_past_lock(request=request, username=form.cleaned_data["username"],
                                           password=form.cleaned_data["password"],
                                           token=form.cleaned_data["otp_token"])
    if found is None:
        return _locked_page(request)
    user, device = found
    login(request, user, backend="cases.access.backends.PermissionBackend")
    django_otp.login(request, device)
    request.session.cycle_key()
    sessions.reset_failures(username=user.get_username(), request=request)
    security_log.record_event(SecurityEvent.Kind.MFA_VERIFIED, request=request, user=user,
                          detail=f"{type(device).__name__}, past the username lock")
    return redirect(_landing(request))


class ThrottledPasswordResetView(PasswordResetView):
    """Django's password reset, throttled per address and per email, saying the same thing every time.

    The "check your email" page follows whether or not an account has the address and whether or
    not the request was throttled, so the form cannot be used to learn who has an account.
    """

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    per_address_per_hour = 10
    per_email_per_hour = 3

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        ip = security_log.client_ip(self.request) or "unknown"
        keys = [(f"irt.pwreset.ip.{ip}", self.per_address_per_hour),
                (f"irt.pwreset.email.{hashlib.sha256(email.encode()).hexdigest()}", self.per_email_per_hour)]
        if not all(_within_rate(key, limit) for key, limit in keys):
            security_log.record_event(SecurityEvent.Kind.PASSWORD_RESET_THROTTLED, request=self.request, username=email[:150])
            return HttpResponseRedirect(self.get_success_url())
        # The worker sends the email (with a link on IRT_SITE_URL, never on this request's Host).
        sessions.request_password_reset(email=email, request=self.request)
        return HttpResponseRedirect(self.get_success_url())


class AuditedPasswordResetConfirmView(PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        # The new password hash already ends the user's other sessions; record it.
        security_log.record_event(SecurityEvent.Kind.PASSWORD_CHANGED, request=self.request, user=form.user,
                              detail="by reset link")
        return response


def _within_rate(key: str, limit: int) -> bool:
    """Count one more use of ``key`` in the current hour; return whether it is within ``limit``."""
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count <= limit
