from django.urls import include, path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<uuid:delivery_id>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read-all"),
    path("preferences/", views.preferences, name="preferences"),
    path("webhooks/", include("notifications.customer_urls")),
    path("deliveries/", include([
        path("", views.delivery_list, name="deliveries"),
        path("<uuid:delivery_id>/", views.delivery_detail, name="delivery"),
        path("<uuid:delivery_id>/retry/", views.delivery_retry, name="delivery-retry"),
    ])),
]
