from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperatorFilesConfig(AppConfig):
    name = "denwa.operator_files"
    verbose_name = _("Operator data")
