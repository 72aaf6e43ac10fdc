from django.urls import include, path

from cases.views import lessons, scorecard

app_name = "lessons"

urlpatterns = [
    path("", lessons.index, name="index"),
    path("feed/", lessons.feed, name="feed"),
    path("scorecard/", include([path("", scorecard.scorecard, name="scorecard"), path("feed/", scorecard.feed, name="scorecard-feed")])),
    path("<slug:slug>/", lessons.detail, name="detail"),
]
