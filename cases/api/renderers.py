"""JSON responses that no cache keeps: every API answer is about one token's user."""

from rest_framework.renderers import JSONRenderer


class NoStoreJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Cache-Control"] = "no-store"
        return super().render(data, accepted_media_type, renderer_context)
