"""``/api/v1/``: the schema, its docs page, and each sub-domain's endpoints (one module each)."""

from django.urls import include, path, re_path

from cases.api import alerts, cases, clocks, evidence, playbooks, problems, schema

app_name = "api"

urlpatterns = [
    path("openapi.json", schema.SchemaView.as_view(), name="schema"),
    path("docs/", schema.DocsView.as_view(url_name="api:schema"), name="docs"),
    # Alerts first: connectors post many a second, and URL resolution tries the patterns in order.
    path("", include(alerts.urlpatterns)),
    path("", include(cases.urlpatterns)),
    path("", include(evidence.urlpatterns)),
    path("", include(playbooks.urlpatterns)),
    path("", include(clocks.urlpatterns)),
    # Last: an unknown path under /api/v1/ is a problem document, not the site's HTML 404 page.
    re_path(r"^[\s\S]*$", problems.not_found, name="not-found"),  # [\s\S]: a path with a newline is unknown too
]
