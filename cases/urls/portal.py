from django.urls import include, path

from cases.views import customer_admin, customer_feeds, notification_pack, portal, reports

app_name = "portal"

urlpatterns = [
    path("", portal.index, name="index"),
    path("incidents/<str:reference>/", include([
        path("", portal.incident, name="incident"),
        path("acknowledge/", portal.acknowledge_incident, name="acknowledge"),
        path("report.pdf", reports.customer_report, name="report"),
        path("notification-pack.pdf", notification_pack.pack_pdf, name="pack-pdf"),
        path("notification-pack.json", notification_pack.pack_json, name="pack-json"),
    ])),
    # The organisation's private feeds: a read token, not a session (cases/views/customer_feeds.py).
    path("feed/atom", customer_feeds.atom, name="feed-atom"),
    path("feed/json", customer_feeds.json_feed, name="feed-json"),
    # Customer administrators: their own organisation only (cases/views/customer_admin.py).
    path("organisation/", include([
        path("", customer_admin.organization, name="organization"),
        path("users/invite/", customer_admin.invite, name="user-invite"),
        path("users/<str:username>/remove/", customer_admin.remove_user, name="user-remove"),
        path("contacts/add/", customer_admin.add_contact, name="contact-add"),
        path("contacts/remove/", customer_admin.remove_contact, name="contact-remove"),
        path("feed-token/", customer_admin.rotate_feed_token, name="feed-token"),
    ])),
]
