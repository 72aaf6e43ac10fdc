"""The account-security audit log: sign-ins, failures, lockouts, second-factor and role changes.

Rows are written only by ``cases.services.security_log.record_event`` and are read-only in Django
admin. Refused case actions are recorded on the case timeline instead (``TimelineEvent.REFUSED``).
"""

from django.db import models

from cases.models.fields import user_field


class SecurityEvent(models.Model):
    class Kind(models.TextChoices):
        LOGIN = "login", "Signed in (password)"
        LOGIN_FAILED = "login_failed", "Sign-in failed"
        LOCKED_OUT = "locked_out", "Locked out"
        LOGOUT = "logout", "Signed out (every session ended)"
        SESSION_EXPIRED = "session_expired", "Session ended after inactivity"
        MFA_VERIFIED = "mfa_verified", "Second factor verified"
        MFA_FAILED = "mfa_failed", "Second factor refused"
        MFA_ENROLLED = "mfa_enrolled", "Authenticator app added"
        MFA_DISABLED = "mfa_disabled", "Two-factor sign-in turned off"
        BACKUP_CODES_CREATED = "backup_codes", "Backup codes created"
        BACKUP_CODE_USED = "backup_code_used", "Backup code used"
        PASSWORD_RESET_REQUESTED = "password_reset_requested", "Password reset requested"
        PASSWORD_RESET_THROTTLED = "password_reset_throttled", "Password reset refused (too many)"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PERMISSIONS_CHANGED = "permissions_changed", "Roles or permissions changed"
        DEACTIVATED = "deactivated", "Account deactivated (every session ended)"
        API_TOKEN_CREATED = "api_token_created", "API token created"
        API_TOKEN_REVOKED = "api_token_revoked", "API token revoked"
        CUSTOMER_SETTINGS_CHANGED = "customer_settings", "Customer administrator changed organisation settings"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices, db_index=True)
    # The account concerned; the typed username stays even when no such account exists.
    user = user_field(optional=True, on_delete=models.SET_NULL, related_name="security_events")
    username = models.CharField(max_length=150, blank=True, db_index=True)
    # Who made the change, when it is not the user themselves (an admin changing roles).
    actor = user_field(optional=True, on_delete=models.SET_NULL)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    path = models.CharField(max_length=255, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"], name="security_event_user_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.username or '—'} · {self.at:%Y-%m-%d %H:%M:%S}"
