"""Demo data for the embedded default: three subscribers, their TAs and an operator login."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from denwa.core.operator_data.bundle import OperatorData
from denwa.core.timeutil import Month, tokyo_today
from denwa.portal.accounts import issue_password
from denwa.subscribers.models import Contract, TerminalAdapter
from denwa.subscribers.services import add_subscriber, assign_ta

DEMO_SUBSCRIBERS = (
    ("05055500001", "demo0001", "KCT-0001", "山田 太郎"),
    ("05055500002", "demo0002", "KCT-0002", "佐藤 花子"),
    ("05055500003", "demo0003", "KCT-0003", "鈴木 一郎"),
)
OPERATOR_LOGIN = "operator"


@transaction.atomic
def add_demo_data(data: OperatorData, actor: str) -> list[str]:
    """Add what is missing of the demo data; returns lines to show the newcomer."""
    start = Month.of(tokyo_today()).previous().first_day
    report = []
    for index, (number, password, account, name) in enumerate(DEMO_SUBSCRIBERS, start=1):
        if Contract.objects.filter(number=number).exists():
            report.append(f"subscriber {number} exists")
            continue
        add_subscriber(data, number, account, start, actor, password, isp_name=name)
        ta, _ = TerminalAdapter.objects.get_or_create(
            serial=f"DEMO-TA-{index:04d}",
            defaults={"model": "VoIP TA (2 ports)", "mac": f"02:00:5e:00:00:{index:02x}"},
        )
        assign_ta(number, ta.serial, start, actor)
        issue_password(number, actor, password, must_change=False)  # the same demo password
        report.append(f"subscriber {number} (SIP/web password {password}) active from {start}")
    users = get_user_model()
    if users.objects.filter(username=OPERATOR_LOGIN).exists():
        report.append(f"operator login '{OPERATOR_LOGIN}' exists (password unchanged)")
    else:
        password = secrets.token_urlsafe(10)
        users.objects.create_superuser(OPERATOR_LOGIN, "", password)
        report.append(f"operator login: {OPERATOR_LOGIN} / {password}  (console /console/)")
    return report
