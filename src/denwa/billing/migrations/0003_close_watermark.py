"""Closes record a watermark (the highest CDR id they saw) instead of marking each CDR.

For closes made before, the watermark is recovered from the CDRs they marked
(``calls.Cdr.billed_month``, removed by ``calls.0005``) and the CDRs already
imported when they ran: a close billed every answered call up to its month that
existed then, so no id at or below either was imported after it.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Max


def recover_watermarks(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    MonthClose = apps.get_model("billing", "MonthClose")
    Cdr = apps.get_model("calls", "Cdr")
    watermark = 0
    for close in MonthClose.objects.order_by("month"):
        marked = Cdr.objects.filter(billed_month=close.month).aggregate(top=Max("id"))["top"]
        present = Cdr.objects.filter(imported_at__lte=close.closed_at).aggregate(top=Max("id"))[
            "top"
        ]
        watermark = max(watermark, marked or 0, present or 0)
        close.max_cdr_id = watermark
        close.save(update_fields=["max_cdr_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_verbose_names"),
        ("calls", "0004_open_calls"),
    ]

    operations = [
        migrations.AddField(
            model_name="monthclose",
            name="max_cdr_id",
            field=models.BigIntegerField(default=0, verbose_name="last CDR billed (id)"),
        ),
        migrations.RunPython(recover_watermarks, migrations.RunPython.noop),
    ]
