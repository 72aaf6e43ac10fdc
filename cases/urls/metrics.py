from django.urls import path

from cases.views import metrics

app_name = "metrics"

urlpatterns = [
    path("", metrics.metrics_page, name="page"),
    path("metrics.csv", metrics.metrics_csv, name="csv"),
    path("cases/", metrics.metrics_cases, name="cases"),
]
