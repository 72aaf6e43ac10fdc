from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cases.urls import public, staff
from cases.views import account
from irt import views


# Django tries the patterns in order, each one a regular expression: the pages read most come first (the
# dashboard and case pages, the portal, the lessons), so a request does not first try every account, admin and API
# pattern (issue 18: resolving a portal address cost 80 µs, four times the first pattern's). No two entries match the
# same address (tests/test_urls.py), so the order changes nothing else.
urlpatterns = [
    path("", include(staff.cases)),
    path("portal/", include(public.portal)),
    path("lessons/", include(public.lessons)),
    path("", include(staff.playbooks)),
    path("cases/<str:reference>/evidence/", include(staff.evidence)),
    path("inbox/", include("notifications.urls")),
    path("healthz", views.healthz, name="healthz"),
    path(".well-known/", include(public.well_known)),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", account.ThrottledPasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/",
         auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_sent.html"),
         name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", account.AuditedPasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/reset/done/",
         auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_finished.html"),
         name="password_reset_complete"),
    path("accounts/", include(public.account)),
    path("accounts/tokens/", include(staff.api_tokens)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cases.api.urls")),
    path("cases/<str:reference>/clocks/", include(staff.clocks)),
    path("alerts/", include(staff.alerts)),
    path("metrics/", include(staff.metrics)),
]
