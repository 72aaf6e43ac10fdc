from django.urls import path

from cases.views import lessons

app_name = "lessons"

urlpatterns = [
    path("", lessons.index, name="index"),
    path("feed/", lessons.feed, name="feed"),
    path("<slug:slug>/", lessons.detail, name="detail"),
]
