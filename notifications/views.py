"""The inbox (every signed-in user), subscription preferences (customers) and deliveries (managers, admins)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.access.lookups import get_case_for
from cases.access.permissions import can_see_deliveries, is_customer, is_customer_admin
from cases.views.helpers import cleaned_or_messages, staff_required
from notifications import selectors
from notifications.forms import DeliveryFilterForm, PreferenceForm, SubscriptionForm
from notifications.models import Delivery, Preference
from notifications.services import inbox as inbox_service
from notifications.services import subscriptions
from notifications.services.delivery import retry_now

PAGE_SIZE = 50


@login_required
def inbox(request):
    page = Paginator(selectors.inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def mark_read(request, delivery_id):
    entry = get_object_or_404(Delivery, pk=delivery_id, user=request.user, channel=Delivery.Channel.INBOX)
    inbox_service.mark_read(user=request.user, delivery=entry)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    count = inbox_service.mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("notifications:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    if not is_customer(request.user):
        return redirect("cases:dashboard")
    preference, _ = Preference.objects.get_or_create(user=request.user)
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your email preferences are saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html",
                  {"form": form, **selectors.subscriptions(request.user), "is_admin": is_customer_admin(request.user)})


@login_required
@require_POST
def subscription_set(request):
    """Save the reader's choice (and, for administrators, the organisation's) for one incident's or service's follow-ups."""
    if not is_customer(request.user):
        return redirect("cases:dashboard")
    data = cleaned_or_messages(request, SubscriptionForm(request.POST, user=request.user))
    if data is None:
        return redirect(reverse("notifications:preferences") + "#subscriptions-h")
    subscriptions.set_subscriptions(by=request.user, target=data["target"], mine=data["mine"], organization=data["organization"] or None,
                                    set_organization=data["organization"] != "", request=request)
    messages.success(request, "Your choice is saved. Breach notices always reach your security contacts.")
    if data["back"] == "incident" and data["incident"] is not None:
        return redirect(reverse("portal:incident", args=[data["incident"].reference]) + "#subscription-h")
    return redirect(reverse("notifications:preferences") + "#subscriptions-h")


def _require_delivery_staff(user) -> None:
    if not can_see_deliveries(user):
        raise PermissionDenied("Only incident managers and admins see deliveries.")


@staff_required
def delivery_list(request):
    _require_delivery_staff(request.user)
    form = DeliveryFilterForm(request.GET, user=request.user)
    valid = form.is_valid()
    rows = selectors.deliveries(request.user, status=form.cleaned_data["status"], case=form.cleaned_data["case"]) if valid else Delivery.objects.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "notifications/deliveries.html",
                  {"page": page, "form": form, "case": form.cleaned_data.get("case") if valid else None, "query": query.urlencode(),
                   "totals": selectors.delivery_totals(request.user)},
                  status=200 if valid else 400)


@staff_required
def delivery_detail(request, delivery_id):
    _require_delivery_staff(request.user)
    delivery = get_object_or_404(selectors.deliveries(request.user), pk=delivery_id)
    return render(request, "notifications/delivery_detail.html",
                  {"delivery": delivery, "attempts": delivery.attempt_log.order_by("at", "pk")})


@staff_required
@require_POST
def delivery_retry(request, delivery_id):
    _require_delivery_staff(request.user)
    delivery = get_object_or_404(selectors.deliveries(request.user), pk=delivery_id)
    if delivery.status == Delivery.Status.DELIVERED:
        messages.info(request, "This delivery was already delivered.")
    else:
        retry_now(delivery=delivery, by=request.user)
        messages.success(request, "Queued for another attempt now.")
    return redirect("notifications:delivery", delivery_id=delivery.pk)


@staff_required
@require_GET
def notice_progress(request, reference):
    """The breach notices' fan-out of one case, for the case page to refresh while notices are pending.

    Whoever may read the case page reads this fragment (404 otherwise, as the case page).
    """
    case = get_case_for(request.user, reference)
    return render(request, "notifications/partials/notice_progress.html", selectors.notice_progress_context(case, request.user))
