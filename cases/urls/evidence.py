from django.urls import include, path

from cases.views import evidence

app_name = "evidence"

urlpatterns = [
    path("", evidence.evidence_list, name="list"),
    path("verify/", evidence.verify_all, name="verify-all"),
    path("export/", evidence.export, name="export"),
    path("legal-hold/", evidence.legal_hold, name="legal-hold"),
    path("<int:evidence_id>/", include([
        path("download/", evidence.download, name="download"),
        path("verify/", evidence.verify, name="verify"),
        path("supersede/", evidence.supersede, name="supersede"),
    ])),
]
