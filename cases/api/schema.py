"""OpenAPI 3.1 (drf-spectacular): the Bearer scheme, and the problem responses every operation may give."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "reasons": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["type", "title", "status", "detail"],
}
# Statuses any operation may answer, whatever its own documented ones.
COMMON_PROBLEMS = {
    "400": "Invalid or malformed request",
    "401": "No, bad, expired or revoked token",
    "403": "The token lacks the scope, or the user the right",
    "404": "No such resource, or one the user may not know",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Refused in the current state (reasons say what to do first)",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "422": "Well-formed, but names something that does not exist (an unknown user, organisation or service)",
    "429": "Rate limit reached (see Retry-After)",
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "cases.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An IRT API token: `irt_<prefix>_<secret>`."}


def add_problem_responses(result, generator, request, public):
    """Document the problem responses on every operation (schemathesis checks them)."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in COMMON_PROBLEMS.items():
                response = operation["responses"].setdefault(code, {"description": description})
                response.setdefault("content", {})["application/problem+json"] = {"schema": ref}
            if "429" in operation["responses"]:
                operation["responses"]["429"]["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                }
            if "401" in operation["responses"]:
                operation["responses"]["401"]["headers"] = {
                    "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge."}
                }
    return result


class SchemaView(SpectacularJSONAPIView):
    """The schema is public: it describes the API, not anyone's data."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its init script as a separate file (the strict CSP allows no inline script)."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    template_name = "cases/api/swagger_ui.html"
