"""The staff page to create and revoke one's own API tokens (admins manage service accounts in admin)."""

from functools import partial

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from cases.forms.api_tokens import ApiTokenForm
from cases.services import api_tokens
from cases.views.helpers import run_service, staff_required


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        result = run_service(
            request, partial(api_tokens.create_token, request=request), success="", user=request.user, by=request.user,
            name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"], days=form.cleaned_data["days"],
        )
        if result:
            token, raw = result
            created = {"token": token, "raw": raw}
            form = ApiTokenForm()
    context = {"form": form, "tokens": api_tokens.tokens_of(request.user), "created": created}
    return render(request, "cases/api_tokens/list.html", context, status=400 if form.errors else 200)


@staff_required
@require_POST
def token_revoke(request, token_id):
    token = get_object_or_404(api_tokens.tokens_of(request.user), pk=token_id)
    if run_service(request, partial(api_tokens.revoke_token, request=request), success="", token=token, by=request.user):
        messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("api_tokens:list")
