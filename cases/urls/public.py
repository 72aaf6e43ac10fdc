"""URL patterns outside the staff pages: account security, the customer portal, lessons, well-known documents.

One namespace each; irt/urls.py mounts them.
"""
from django.urls import include, path

from cases.views import (
    account as account_views, customer_admin, customer_feeds, lessons as lesson_views, notification_pack,
    portal as portal_views, reports, scorecard, well_known as well_known_views,
)

account = ([
    path("two-factor/", account_views.mfa_verify, name="mfa-verify"),
    path("two-factor/setup/", account_views.mfa_setup, name="mfa-setup"),
    path("two-factor/setup/qr.svg", account_views.mfa_qr, name="mfa-qr"),
    path("two-factor/backup-codes/", account_views.mfa_backup_codes, name="mfa-backup-codes"),
    path("two-factor/disable/", account_views.mfa_disable, name="mfa-disable"),
    path("locked/sign-in/", account_views.sign_in_with_code, name="sign-in-with-code"),
], "account")

incident_pages = [
    path("", portal_views.incident, name="incident"),
    path("acknowledge/", portal_views.acknowledge_incident, name="acknowledge"),
    path("report.pdf", reports.customer_report, name="report"),
    path("notification-pack.pdf", notification_pack.pack_pdf, name="pack-pdf"),
    path("notification-pack.json", notification_pack.pack_json, name="pack-json"),
    # Questions and files from the customer (cases/views/portal.py).
    path("questions/", portal_views.ask_question, name="question-ask"),
    path("files/", portal_views.upload_file, name="file-upload"),
]

# Customer administrators: their own organisation only (cases/views/customer_admin.py).
organisation_pages = [
    path("", customer_admin.organization, name="organization"),
    path("users/invite/", customer_admin.invite, name="user-invite"),
    path("users/<str:username>/remove/", customer_admin.remove_user, name="user-remove"),
    path("contacts/add/", customer_admin.add_contact, name="contact-add"),
    path("contacts/remove/", customer_admin.remove_contact, name="contact-remove"),
    path("feed-token/", customer_admin.rotate_feed_token, name="feed-token"),
]

portal = ([
    path("", portal_views.index, name="index"),
    path("incidents/<str:reference>/", include(incident_pages)),
    # The organisation's private feeds: a read token, not a session (cases/views/customer_feeds.py).
    path("feed/atom", customer_feeds.atom, name="feed-atom"),
    path("feed/json", customer_feeds.json_feed, name="feed-json"),
    path("organisation/", include(organisation_pages)),
], "portal")

lessons = ([
    path("", lesson_views.index, name="index"),
    path("feed/", lesson_views.feed, name="feed"),
    path("scorecard/", scorecard.scorecard, name="scorecard"),
    path("scorecard/feed/", scorecard.feed, name="scorecard-feed"),
    path("<slug:slug>/", lesson_views.detail, name="detail"),
], "lessons")

# Well-known URLs (RFC 8615): the notice-signing public key.
well_known = ([
    path("irt-notice-signing-key.pem", well_known_views.notice_signing_key, name="notice-signing-key"),
], "well_known")
