"""JSON responses that no cache keeps (every API answer is about one token's user), and a quick negotiation."""

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer


class NoStoreJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Cache-Control"] = "no-store"
        return super().render(data, accepted_media_type, renderer_context)


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answering at once when the client accepts anything.

    Connectors post alerts with no ``Accept`` header or ``*/*``, and DRF's parsing of the header and
    matching of media types was a twentieth of a single alert post. For those requests (and no
    ``?format=``) DRF picks the view's first renderer with its own media type; so does this.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        if request.META.get("HTTP_ACCEPT", "*/*") == "*/*" and not format_suffix and self.settings.URL_FORMAT_OVERRIDE not in request.GET:
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
