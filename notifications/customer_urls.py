"""URL patterns of a customer administrator's webhook pages, included in ``notifications.urls``."""

from django.urls import path

from notifications import customer_views

urlpatterns = [
    path("", customer_views.endpoint_list, name="webhooks"),
    path("<int:endpoint_id>/", customer_views.endpoint_detail, name="webhook"),
    path("<int:endpoint_id>/rotate/", customer_views.endpoint_rotate, name="webhook-rotate"),
    path("<int:endpoint_id>/disable/", customer_views.endpoint_disable, name="webhook-disable"),
    path("<int:endpoint_id>/deliveries/<uuid:delivery_id>/retry/", customer_views.delivery_retry, name="webhook-retry"),
]
