from django.contrib.flatpages.views import flatpage
from django.urls import path

from drugref.urls import urlpatterns as drugref_urlpatterns

urlpatterns = [path("flat/<path:url>", flatpage, name="bench_flatpage"), *drugref_urlpatterns]
