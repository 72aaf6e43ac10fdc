from django.urls import include, path

from cases.views import account

app_name = "account"

urlpatterns = [
    path("two-factor/", include([
        path("", account.mfa_verify, name="mfa-verify"),
        path("setup/", account.mfa_setup, name="mfa-setup"),
        path("setup/qr.svg", account.mfa_qr, name="mfa-qr"),
        path("backup-codes/", account.mfa_backup_codes, name="mfa-backup-codes"),
        path("disable/", account.mfa_disable, name="mfa-disable"),
    ])),
    path("locked/sign-in/", account.sign_in_with_code, name="sign-in-with-code"),
]
