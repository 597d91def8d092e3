"""Running call totals replace the per-CDR billed mark.

The totals are built from the CDRs already stored (billed ones keep the month
that billed them); then ``Cdr.billed_month`` goes: which close billed a call
follows from the closes' watermarks (``billing.0003``).
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Count, Sum


def build_totals(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Cdr = apps.get_model("calls", "Cdr")
    CallTotal = apps.get_model("calls", "CallTotal")
    groups = (
        Cdr.objects.filter(direction="out", answered_at__isnull=False, contract__isnull=False)
        .values("contract_id", "call_class", "billing_month", "billed_month")
        .annotate(calls=Count("id"), seconds=Sum("billed_seconds"), charge=Sum("charge_yen"))
        .order_by()
    )
    CallTotal.objects.bulk_create(
        (
            CallTotal(
                contract_id=g["contract_id"],
                call_class=g["call_class"],
                billing_month=g["billing_month"],
                billed_month=g["billed_month"],
                calls=g["calls"],
                seconds=g["seconds"] or 0,
                charge_yen=g["charge"] or 0,
            )
            for g in groups.iterator()
        ),
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0004_open_calls"),
        ("billing", "0003_close_watermark"),
        ("subscribers", "0002_verbose_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="CallTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "call_class",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("onnet", "onnet"),
                            ("ip_partner_free", "ip_partner_free"),
                            ("ip_partner_paid", "ip_partner_paid"),
                            ("ip_other", "ip_other"),
                            ("domestic_fixed", "domestic_fixed"),
                            ("mobile", "mobile"),
                            ("phs", "phs"),
                            ("international", "international"),
                            ("special_3digit", "special_3digit"),
                            ("non_geographic", "non_geographic"),
                            ("carrier_prefix", "carrier_prefix"),
                            ("no_agreement", "no_agreement"),
                            ("invalid", "invalid"),
                        ],
                        max_length=20,
                        verbose_name="class",
                    ),
                ),
                ("billing_month", models.CharField(max_length=7, verbose_name="month")),
                (
                    "billed_month",
                    models.CharField(blank=True, max_length=7, verbose_name="billed on"),
                ),
                ("calls", models.BigIntegerField(default=0, verbose_name="calls")),
                ("seconds", models.BigIntegerField(default=0, verbose_name="billed seconds")),
                (
                    "charge_yen",
                    models.BigIntegerField(default=0, verbose_name="charge (yen, tax excl.)"),
                ),
            ],
            options={
                "verbose_name": "call total",
                "verbose_name_plural": "call totals",
            },
        ),
        migrations.AddIndex(
            model_name="cdr",
            index=models.Index(fields=["billing_month"], name="cdr_month"),
        ),
        migrations.AddField(
            model_name="calltotal",
            name="contract",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="subscribers.contract",
                verbose_name="phone contract",
            ),
        ),
        migrations.AddIndex(
            model_name="calltotal",
            index=models.Index(fields=["billed_month", "billing_month"], name="call_total_open"),
        ),
        migrations.AddConstraint(
            model_name="calltotal",
            constraint=models.UniqueConstraint(
                fields=("contract", "call_class", "billing_month", "billed_month"),
                name="call_total_key",
            ),
        ),
        migrations.RunPython(build_totals, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="cdr",
            name="cdr_billing",
        ),
        migrations.RemoveField(
            model_name="cdr",
            name="billed_month",
        ),
    ]
