"""Well-known URLs (RFC 8615): the notice-signing public key."""

from django.urls import path

from cases.views import well_known

app_name = "well_known"

urlpatterns = [
    path("irt-notice-signing-key.pem", well_known.notice_signing_key, name="notice-signing-key"),
]
