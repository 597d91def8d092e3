"""URL map: the operator console and the ISP event API (the subscriber portal comes later)."""

from django.contrib import admin
from django.urls import path

from denwa.subscribers.views import isp_event

urlpatterns = [
    path("console/", admin.site.urls),
    path("api/isp-events", isp_event, name="isp-event"),
]
