from django.urls import path

from . import views
from .feeds import updates_feed

app_name = "monographs"

urlpatterns = [
    path("", views.home, name="home"),
    path("drugs/", views.drug_index, name="drug_index"),
    path("drugs/a-z/<str:letter>/", views.drug_index, name="drug_index_letter"),
    path("drugs/<slug:slug>/", views.drug_detail, name="drug"),
    path("drugs/<slug:slug>.json", views.drug_json, name="drug_json"),
    path("drugs/<slug:slug>/fhir.json", views.drug_fhir, name="drug_fhir"),
    path("monographs/<slug:slug>/", views.monograph_detail, name="monograph"),
    path("topics/", views.topic_index, name="topic_index"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    path("topics/<slug:slug>/<slug:level>/", views.topic_detail, name="topic_level"),
    path("classes/<slug:slug>/", views.class_detail, name="class"),
    path("compare/<slug:slug>/", views.comparison_detail, name="comparison"),
    path("search/", views.search_page, name="search"),
    path("feeds/updates/", updates_feed, name="feed"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("favicon.ico", views.favicon, name="favicon"),
]
