from django.urls import path

from cases.views import api_tokens

app_name = "api_tokens"

urlpatterns = [
    path("", api_tokens.token_list, name="list"),
    path("<int:token_id>/revoke/", api_tokens.token_revoke, name="revoke"),
]
