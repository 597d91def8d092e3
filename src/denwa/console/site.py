"""The console's admin site: titled for ISP staff, at /console/."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class ConsoleSite(admin.AdminSite):
    """django.contrib.admin, titled as denwa's operator console."""

    site_header = _("denwa operator console")
    site_title = _("denwa console")
    index_title = _("IP phone service operations")
