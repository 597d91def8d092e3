from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtectionConfig(AppConfig):
    name = "denwa.protection"
    verbose_name = _("Protection (abuse, fraud, overload)")

    def ready(self) -> None:
        from denwa.protection import snapshot  # noqa: F401  (connects the contract receivers)
