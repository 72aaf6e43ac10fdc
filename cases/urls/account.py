from django.urls import path

from cases.views import account

app_name = "account"

urlpatterns = [
    path("two-factor/", account.mfa_verify, name="mfa-verify"),
    path("two-factor/setup/", account.mfa_setup, name="mfa-setup"),
    path("two-factor/setup/qr.svg", account.mfa_qr, name="mfa-qr"),
    path("two-factor/backup-codes/", account.mfa_backup_codes, name="mfa-backup-codes"),
    path("two-factor/disable/", account.mfa_disable, name="mfa-disable"),
    path("locked/sign-in/", account.sign_in_with_code, name="sign-in-with-code"),
]
