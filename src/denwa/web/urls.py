"""URL map: the subscriber's pages (/my/), the operator console and the ISP event API."""

from django.contrib import admin
from django.urls import include, path

from denwa.portal.views import home
from denwa.subscribers.views import isp_event

urlpatterns = [
    path("", home, name="home"),
    path("my/", include("denwa.portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("console/", admin.site.urls),
    path("api/isp-events", isp_event, name="isp-event"),
]
