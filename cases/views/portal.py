"""The customer portal. Customers see only customer-visible fields of their own organisation."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from cases import access


@login_required
def index(request):
    if not access.is_customer(request.user):
        return redirect("cases:dashboard")
    return render(request, "portal/index.html", {"organization": request.user.organization})
