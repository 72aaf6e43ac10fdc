"""Public, well-known documents: the public key customer notices are signed with (cases/services/notice_signing.py)."""

from django.http import HttpResponse
from django.views.decorators.http import require_safe

from cases.services import notice_signing
from irt.middleware import public_page


@require_safe
@public_page(max_age=3600)
def notice_signing_key(request):
    """Serve the Ed25519 public key (PEM) that verifies every breach notice and incident update."""
    return HttpResponse(notice_signing.public_pem(), content_type="application/x-pem-file")
