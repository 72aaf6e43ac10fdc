from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from irt import views

admin.site.site_header = "IRT administration"
admin.site.site_title = "IRT admin"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("cases.urls")),
    path("", include("cases.evidence_urls")),
    path("portal/", include("cases.portal_urls")),
    path("lessons/", include("cases.lessons_urls")),
]
