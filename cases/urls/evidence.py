from django.urls import path

from cases.views import evidence

app_name = "evidence"

urlpatterns = [
    path("cases/<str:reference>/evidence/", evidence.evidence_list, name="list"),
    path("cases/<str:reference>/evidence/verify/", evidence.verify_all, name="verify-all"),
    path("cases/<str:reference>/evidence/export/", evidence.export, name="export"),
    path("cases/<str:reference>/evidence/legal-hold/", evidence.legal_hold, name="legal-hold"),
    path("cases/<str:reference>/evidence/<int:evidence_id>/download/", evidence.download, name="download"),
    path("cases/<str:reference>/evidence/<int:evidence_id>/verify/", evidence.verify, name="verify"),
    path("cases/<str:reference>/evidence/<int:evidence_id>/supersede/", evidence.supersede, name="supersede"),
]
