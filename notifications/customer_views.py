"""A customer administrator's webhook endpoints: add, rotate the secret, disable, see deliveries and retry.

Only their own organisation's endpoints and deliveries, found through ``organization_endpoints``
(another organisation's is a 404); the services refuse the rest and write the security log.
A new or rotated secret is shown once, on the answer to the POST that made it.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cases.views.portal import customer_admin_only
from notifications.forms import CustomerWebhookForm
from notifications.models import Delivery
from notifications.services import delivery as delivery_services
from notifications.services import webhooks


def _endpoint_for(request, endpoint_id):
    return get_object_or_404(webhooks.organization_endpoints(request.user.organization), pk=endpoint_id)


@never_cache
@require_http_methods(["GET", "POST"])
@customer_admin_only
def endpoint_list(request):
    form = CustomerWebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        endpoint, secret = webhooks.add_customer_endpoint(by=request.user, request=request, url=form.cleaned_data["url"],
                                                          description=form.cleaned_data["description"])
        created = {"endpoint": endpoint, "secret": secret}
        form = CustomerWebhookForm()
    context = {"organization": request.user.organization, "form": form, "created": created,
               "endpoints": webhooks.organization_endpoints(request.user.organization)}
    return render(request, "notifications/webhooks.html", context, status=400 if form.errors else 200)


def _detail(request, endpoint, *, secret: str = ""):
    context = {"endpoint": endpoint, "deliveries": webhooks.endpoint_deliveries(endpoint), "secret": secret}
    return render(request, "notifications/webhook_detail.html", context)


@require_safe
@customer_admin_only
def endpoint_detail(request, endpoint_id):
    return _detail(request, _endpoint_for(request, endpoint_id))


@never_cache
@require_POST
@customer_admin_only
def endpoint_rotate(request, endpoint_id):
    endpoint = _endpoint_for(request, endpoint_id)
    secret = webhooks.rotate_customer_secret(by=request.user, endpoint=endpoint, request=request)
    return _detail(request, endpoint, secret=secret)


@require_POST
@customer_admin_only
def endpoint_disable(request, endpoint_id):
    endpoint = _endpoint_for(request, endpoint_id)
    webhooks.disable_customer_endpoint(by=request.user, endpoint=endpoint, request=request)
    messages.success(request, "Endpoint disabled: nothing more is sent to it.")
    return redirect("notifications:webhook", endpoint_id=endpoint.pk)


@require_POST
@customer_admin_only
def delivery_retry(request, endpoint_id, delivery_id):
    endpoint = _endpoint_for(request, endpoint_id)
    delivery = get_object_or_404(Delivery, pk=delivery_id, endpoint=endpoint)
    if delivery.status == Delivery.Status.DELIVERED:
        messages.info(request, "This delivery was already delivered.")
    else:
        delivery_services.retry_customer_delivery(by=request.user, delivery=delivery, request=request)
        messages.success(request, "Queued for another attempt now.")
    return redirect("notifications:webhook", endpoint_id=endpoint.pk)
