from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubscribersConfig(AppConfig):
    name = "denwa.subscribers"
    verbose_name = _("Subscribers and contracts")

    def ready(self) -> None:
        from denwa.subscribers import snapshot  # noqa: F401 - connects the publishing signals
