from django.http import HttpResponse
from django.urls import path

from irt.urls import urlpatterns as site_patterns


def trivial(request):
    """The floor: Django's request cycle with every middleware, no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial", trivial), *site_patterns]
