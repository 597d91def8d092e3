"""The browser tests' data, written into the server's database through denwa's services.

Run as a script with ``DENWA_HOME`` (and ``DJANGO_SETTINGS_MODULE``) of the
server under test, after ``denwa init``; prints what the tests need as JSON.
Months are counted back from today (Asia/Tokyo): the two before this one are
closed, this one has calls so far.

- ALICE: calls in every month (61 in the last closed one: two pages), a call of
  the month before that arrives after its close (a late line), a credit, a
  record of her data given to NTT Com;
- BOB: one call and an inquiry of his own (the URLs ALICE must not open);
- CAROL: a web password only (the lock-out test);
- the operator ``tanaka`` for the console.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

ALICE, BOB, CAROL = "05055500001", "05055500002", "05055500003"
PASSWORDS = {ALICE: "alice-web-2026", BOB: "bob-web-2026", CAROL: "carol-web-2026"}
OPERATOR = ("tanaka", "console-pass-2026")


def call(ident: str, caller: str, callee: str, answer: datetime, seconds: int) -> str:
    """An answered call as a CDR line."""
    return json.dumps(
        {
            "id": ident,
            "caller": caller,
            "callee": callee,
            "start": (answer - timedelta(seconds=6)).isoformat(),
            "answer": answer.isoformat(),
            "end": (answer + timedelta(seconds=seconds)).isoformat(),
            "disposition": "answered",
        }
    )


def main() -> None:
    from denwa.web.bootstrap import setup_django

    setup_django()
    from django.contrib.auth.models import User

    from denwa.billing.adjustments import record_adjustment
    from denwa.billing.models import Statement
    from denwa.billing.services import close_month
    from denwa.calls.models import Cdr
    from denwa.calls.services import import_cdr_lines
    from denwa.core.operator_data.loader import load_operator_data
    from denwa.core.timeutil import TOKYO, Month, tokyo_today
    from denwa.portal.accounts import issue_password
    from denwa.subscribers.services import add_subscriber
    from denwa.support.models import Inquiry
    from denwa.support.services import record_provision

    data = load_operator_data()
    current = Month.of(tokyo_today())
    last = current.previous()
    before = last.previous()

    def at(month: Month, day: int, hour: int, minute: int) -> datetime:
        return datetime(month.year, month.month, day, hour, minute, tzinfo=TOKYO)

    for index, number in enumerate((ALICE, BOB, CAROL), start=1):
        add_subscriber(data, number, f"KCT-{index:04d}", before.first_day, "setup", "sip-pw")
        issue_password(number, "setup", PASSWORDS[number], must_change=False)
    numbers = ["0312345678", "09012345678", "0667891234", "0101212555123"]
    lines = [
        call(f"alice-{i:03d}", ALICE, numbers[i % 4], at(last, 1 + i % 27, 9 + i % 10, i % 60),
             30 + 17 * i)
        for i in range(61)
    ]  # fmt: skip
    lines += [
        call("alice-early", ALICE, "0312345678", at(before, 10, 12, 0), 200),
        call("bob-001", BOB, "0312349999", at(last, 3, 10, 0), 125),
        call("alice-now", ALICE, "09012345678", at(current, 1, 0, 1), 95),
    ]
    import_cdr_lines("setup", lines, data)
    close_month(before, data, "setup")
    late = call("alice-late", ALICE, "0312340000", at(before, 28, 20, 0), 400)
    import_cdr_lines("setup", [late], data)
    record_adjustment(ALICE, -200, "通話品質不良による減額", last.first_day, "setup")
    close_month(last, data, "setup")
    record_provision(
        ALICE, "ntt_com", "氏名・050番号", "通話品質の調査", at(last, 15, 14, 0), "setup"
    )
    bob_inquiry = Inquiry.objects.create(
        contract_id=Statement.objects.get(contract__number=BOB, month=str(last)).contract_id,
        subject="請求について",
        body="Bob's own question",
    )
    User.objects.create_superuser(OPERATOR[0], "", OPERATOR[1])
    print(
        json.dumps(
            {
                "current": str(current),
                "last": str(last),
                "before": str(before),
                "alice_statement": Statement.objects.get(
                    contract__number=ALICE, month=str(last)
                ).pk,
                "bob_statement": Statement.objects.get(contract__number=BOB, month=str(last)).pk,
                "bob_call": Cdr.objects.get(cdr_id="bob-001").pk,
                "bob_inquiry": bob_inquiry.pk,
            }
        )
    )


if __name__ == "__main__":
    main()
