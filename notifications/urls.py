from django.urls import include, path

from notifications import customer_views, views

app_name = "notifications"

# A customer administrator's webhook endpoints (notifications/customer_views.py).
webhook_pages = [
    path("", customer_views.endpoint_list, name="webhooks"),
    path("<int:endpoint_id>/", customer_views.endpoint_detail, name="webhook"),
    path("<int:endpoint_id>/rotate/", customer_views.endpoint_rotate, name="webhook-rotate"),
    path("<int:endpoint_id>/disable/", customer_views.endpoint_disable, name="webhook-disable"),
    path("<int:endpoint_id>/deliveries/<uuid:delivery_id>/retry/", customer_views.delivery_retry, name="webhook-retry"),
]

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<uuid:delivery_id>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read-all"),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/subscriptions/", views.subscription_set, name="subscription"),
    path("webhooks/", include(webhook_pages)),
    path("notice-progress/<str:reference>/", views.notice_progress, name="notice-progress"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<uuid:delivery_id>/", views.delivery_detail, name="delivery"),
    path("deliveries/<uuid:delivery_id>/retry/", views.delivery_retry, name="delivery-retry"),
]
