"""The console's two app configs: the admin site (as ``admin``) and the console's own app."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class ConsoleAdminConfig(AdminConfig):
    """django.contrib.admin with denwa's console site."""

    default_site = "denwa.console.site.ConsoleSite"


class ConsoleConfig(AppConfig):
    """The console's actions and model admins (``denwa/console/admin.py``)."""

    name = "denwa.console"
    label = "console"
    verbose_name = _("Operator console")
