"""Every version of every operator data file that was put in force, with its content."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataFileVersion(models.Model):
    """One operator file's content as loaded (the close records which versions it used)."""

    name = models.CharField(_("file"), max_length=64)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    origin = models.CharField(_("loaded from"), max_length=500)
    content = models.TextField(_("content"))
    loaded_at = models.DateTimeField(_("first loaded"), auto_now_add=True)
    loaded_by = models.CharField(_("by"), max_length=150)

    class Meta:
        verbose_name = _("operator data file version")
        verbose_name_plural = _("operator data file versions")
        ordering = ["name", "-loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["name", "sha256"], name="one_row_per_file_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.sha256[:12]}"
