from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "denwa.portal"
    verbose_name = _("Subscriber web page (ご利用明細照会)")
