"""ご利用明細照会 through HTTP with Django's test client (issue 5): sign-in, pages, CSV, isolation.

The browser tests (tests/e2e/browser) drive the same pages in Chromium; these
cover every rule one by one, on SQLite and again on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.hashers import identify_hasher
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from denwa.billing.adjustments import record_adjustment
from denwa.billing.models import Statement
from denwa.billing.services import close_month, show_statement
from denwa.calls.models import Cdr
from denwa.calls.services import import_cdr_lines
from denwa.collection.services import export_debits, import_results, save_mandate
from denwa.core.collection.config import load_collection_settings
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.timeutil import TOKYO, Month, billing_date
from denwa.portal import accounts, services
from denwa.portal.errors import NumberLocked, PasswordRejected, SignInFailed, SourceThrottled
from denwa.portal.formats import unwrap_number_cell
from denwa.portal.models import SignInAttempt, WebAccount
from denwa.portal.session import SESSION_KEY
from denwa.subscribers.errors import UnknownSubscriber
from denwa.subscribers.models import Contract
from denwa.subscribers.services import add_subscriber
from denwa.support.models import DataProvision, Inquiry
from denwa.support.services import record_provision, reply_to_inquiry
from tests.zengin_bank import bank_result

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ALICE, BOB = "05055500001", "05055500002"
PASSWORD = "alice-web-pass"
LATER = datetime(2030, 1, 1, tzinfo=UTC)
AUGUST = "2003-08"


# --- fixtures and helpers ---------------------------------------------------------------------


def call(ident: str, caller: str, callee: str, day: str, time: str, seconds: int) -> str:
    """An answered call as a CDR JSON line (Asia/Tokyo times)."""
    start = datetime.fromisoformat(f"{day}T{time}+09:00")
    answer = start + timedelta(seconds=5)
    return json.dumps(
        {
            "id": ident,
            "caller": caller,
            "callee": callee,
            "start": start.isoformat(),
            "answer": answer.isoformat(),
            "end": (answer + timedelta(seconds=seconds)).isoformat(),
            "disposition": "answered",
        }
    )


def subscribe(data: OperatorData, number: str, start: date) -> Contract:
    return add_subscriber(data, number, f"K-{number[-4:]}", start, "test", "sip-secret").contract


@pytest.fixture
def alice(data: OperatorData) -> Contract:
    """ALICE from 2003-07-15 with a web password she has already chosen."""
    contract = subscribe(data, ALICE, date(2003, 7, 15))
    accounts.issue_password(ALICE, "test", PASSWORD, must_change=False)
    return contract


@pytest.fixture
def bob(data: OperatorData) -> Contract:
    contract = subscribe(data, BOB, date(2003, 7, 15))
    accounts.issue_password(BOB, "test", "bob-web-pass", must_change=False)
    return contract


@pytest.fixture
def august(data: OperatorData, alice: Contract, bob: Contract) -> None:
    """Calls of August 2003 for both, a late July call, an adjustment; July and August closed."""
    lines = [
        call(f"a{i:03d}", ALICE, "0312345678" if i % 3 else "09012345678", "2003-08-05",
             f"{10 + i // 60:02d}:{i % 60:02d}:00", 60 + i)
        for i in range(60)
    ]  # fmt: skip
    lines += [
        call("a-intl", ALICE, "0101212555123", "2003-08-20", "22:00:00", 300),
        call("b001", BOB, "0312349999", "2003-08-06", "09:00:00", 200),
    ]
    import_cdr_lines("test", lines, data)
    close_month(Month(2003, 7), data, "test", now=LATER)
    import_cdr_lines(
        "test", [call("a-late", ALICE, "0312340000", "2003-07-31", "23:00:00", 90)], data
    )
    record_adjustment(ALICE, -100, "通話品質不良による減額", date(2003, 8, 10), "test")
    close_month(Month(2003, 8), data, "test", now=LATER)


def sign_in(client: Client, number: str = ALICE, password: str = PASSWORD) -> Client:
    response = client.post(reverse("portal:login"), {"number": number, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


@pytest.fixture
def page(alice: Contract) -> Client:
    """A browser signed in as ALICE."""
    return sign_in(Client())


def statement_of(number: str, month: str) -> Statement:
    return Statement.objects.get(contract__number=number, month=month)


def text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined,no-any-return]


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
    assert b"\r\n" in content
    assert b"\n" not in content.replace(b"\r\n", b"")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


# --- signing in -------------------------------------------------------------------------------


def test_an_issued_password_signs_in_and_must_be_changed_before_anything_else(
    data: OperatorData,
) -> None:
    subscribe(data, ALICE, date(2003, 7, 15))
    issued = accounts.issue_password(ALICE, "console:tanaka")
    assert len(issued.password) == 10
    assert issued.must_change
    client = Client()
    response = client.post(reverse("portal:login"), {"number": ALICE, "password": issued.password})
    assert response.headers["Location"] == reverse("portal:password")
    assert client.get(reverse("portal:statements")).headers["Location"] == reverse(
        "portal:password"
    )
    changed = client.post(
        reverse("portal:password"),
        {"current": issued.password, "new": "my-own-password", "again": "my-own-password"},
    )
    assert changed.headers["Location"] == reverse("portal:overview")
    assert client.get(reverse("portal:statements")).status_code == 200
    account = WebAccount.objects.get(contract__number=ALICE)
    assert (account.must_change, account.password_set_by) == (False, "subscriber")


def test_the_web_password_is_kept_only_as_a_django_hash(alice: Contract) -> None:
    stored = WebAccount.objects.get(contract=alice).password
    assert PASSWORD not in stored
    assert identify_hasher(stored).algorithm  # a Django hasher recognises it
    assert alice.sip_ha1 != stored  # not the SIP password's HA1


def test_the_number_may_be_typed_with_hyphens_and_full_width_digits(alice: Contract) -> None:
    assert accounts.sign_in("０５０-５５５０-０００１", PASSWORD, "192.0.2.1").contract == alice


def test_a_wrong_password_and_an_unknown_number_get_the_same_answer(alice: Contract) -> None:
    client = Client()
    wrong = text(client.post(reverse("portal:login"), {"number": ALICE, "password": "nope"}))
    unknown = text(
        client.post(reverse("portal:login"), {"number": "05055509999", "password": "nope"})
    )
    assert "050番号またはパスワードが違います。" in wrong
    assert "050番号またはパスワードが違います。" in unknown
    outcomes = list(SignInAttempt.objects.order_by("at", "id").values_list("outcome", flat=True))
    assert outcomes == ["wrong_password", "unknown_number"]


def test_five_wrong_passwords_lock_the_number_even_against_the_right_one(
    alice: Contract,
) -> None:
    now = datetime(2026, 11, 1, 10, 0, tzinfo=TOKYO)
    for attempt in range(4):
        with pytest.raises(SignInFailed):
            accounts.sign_in(ALICE, f"wrong-{attempt}", "192.0.2.1", now=now)
    with pytest.raises(NumberLocked) as locked:
        accounts.sign_in(ALICE, "wrong-5", "192.0.2.1", now=now)
    assert locked.value.until == now + timedelta(minutes=15)
    with pytest.raises(NumberLocked):
        accounts.sign_in(ALICE, PASSWORD, "192.0.2.2", now=now + timedelta(minutes=14))
    signed = accounts.sign_in(ALICE, PASSWORD, "192.0.2.2", now=now + timedelta(minutes=15))
    assert (signed.failed_attempts, signed.locked_until) == (0, None)


def test_the_lock_out_page_says_until_when(alice: Contract) -> None:
    client = Client()
    for attempt in range(5):
        response = client.post(
            reverse("portal:login"), {"number": ALICE, "password": f"wrong-{attempt}"}
        )
    assert "までログインできません" in text(response)
    again = client.post(reverse("portal:login"), {"number": ALICE, "password": PASSWORD})
    assert again.status_code == 200
    assert "までログインできません" in text(again)


def test_an_unknown_number_locks_like_a_known_one(alice: Contract) -> None:
    now = datetime(2026, 11, 1, 10, 0, tzinfo=TOKYO)
    for attempt in range(4):
        with pytest.raises(SignInFailed):
            accounts.sign_in("05055509999", f"x{attempt}", "192.0.2.1", now=now)
    with pytest.raises(NumberLocked):
        accounts.sign_in("05055509999", "x5", "192.0.2.1", now=now)
    with pytest.raises(NumberLocked):
        accounts.sign_in("05055509999", "x6", "192.0.2.3", now=now + timedelta(minutes=1))


def test_too_many_failures_from_one_address_refuse_that_address(
    alice: Contract, bob: Contract, settings: object
) -> None:
    settings.DENWA_PORTAL_SOURCE_MAX_FAILURES = 3  # type: ignore[attr-defined]
    now = datetime(2026, 11, 1, 10, 0, tzinfo=TOKYO)
    for number in ("05055509991", "05055509992", "05055509993"):
        with pytest.raises(SignInFailed):
            accounts.sign_in(number, "guess", "198.51.100.7", now=now)
    with pytest.raises(SourceThrottled) as throttled:
        accounts.sign_in(BOB, "bob-web-pass", "198.51.100.7", now=now + timedelta(minutes=1))
    assert throttled.value.until == now + timedelta(minutes=15)
    assert accounts.sign_in(BOB, "bob-web-pass", "198.51.100.8", now=now).contract == bob


def test_a_new_password_from_the_operator_lifts_the_lock(alice: Contract) -> None:
    for attempt in range(5):
        with pytest.raises((SignInFailed, NumberLocked)):
            accounts.sign_in(ALICE, f"wrong-{attempt}", "192.0.2.1")
    issued = accounts.issue_password(ALICE, "cli:ops")
    assert accounts.sign_in(ALICE, issued.password, "192.0.2.1").must_change


def test_the_operator_can_lift_a_lock_out(alice: Contract) -> None:
    WebAccount.objects.filter(contract=alice).update(
        failed_attempts=5, locked_until=timezone.now() + timedelta(minutes=10)
    )
    accounts.unlock(ALICE, "console:tanaka")
    assert accounts.sign_in(ALICE, PASSWORD, "192.0.2.1").contract == alice


def test_a_password_for_a_number_without_contract_is_refused(data: OperatorData) -> None:
    with pytest.raises(UnknownSubscriber):
        accounts.issue_password("05055509999", "test")


@pytest.mark.parametrize(
    ("current", "new", "again", "says"),
    [
        ("wrong", "new-password-1", "new-password-1", "現在のパスワードが違います"),
        (PASSWORD, "new-password-1", "new-password-2", "新しいパスワードが一致しません"),
        (PASSWORD, PASSWORD, PASSWORD, "現在のものと違うパスワード"),
        (PASSWORD, "short", "short", "短すぎます"),
        (PASSWORD, f"x{ALICE}", f"x{ALICE}", "050番号を含めないで"),
    ],
    ids=["wrong-current", "differ", "unchanged", "too-short", "holds-the-number"],
)
def test_a_new_password_is_refused_with_the_reason(
    page: Client, current: str, new: str, again: str, says: str
) -> None:
    response = page.post(
        reverse("portal:password"), {"current": current, "new": new, "again": again}
    )
    assert response.status_code == 200
    assert says in text(response)
    assert accounts.sign_in(ALICE, PASSWORD, "192.0.2.1")  # unchanged


def test_changing_the_password_signs_out_every_other_session(alice: Contract) -> None:
    here, elsewhere = sign_in(Client()), sign_in(Client())
    here.post(
        reverse("portal:password"),
        {"current": PASSWORD, "new": "brand-new-pass", "again": "brand-new-pass"},
    )
    assert here.get(reverse("portal:overview")).status_code == 200
    assert elsewhere.get(reverse("portal:overview")).status_code == 302


def test_a_session_unused_for_the_idle_time_is_signed_out(page: Client) -> None:
    session = page.session
    state = session[SESSION_KEY]
    state["seen"] -= 31 * 60
    session[SESSION_KEY] = state
    session.save()
    response = page.get(reverse("portal:statements"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("portal:login"))
    assert "もう一度ログインしてください" in text(page.get(response.headers["Location"]))


def test_signing_in_and_every_form_need_the_csrf_token(alice: Contract) -> None:
    strict = Client(enforce_csrf_checks=True)
    refused = strict.post(reverse("portal:login"), {"number": ALICE, "password": PASSWORD})
    assert refused.status_code == 403
    form = strict.get(reverse("portal:login"))
    token = form.cookies["csrftoken"].value
    done = strict.post(
        reverse("portal:login"),
        {"number": ALICE, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert done.status_code == 302
    assert strict.post(reverse("portal:support"), {"subject": "x", "body": "y"}).status_code == 403


def test_signing_out_takes_a_post_and_ends_the_session(page: Client) -> None:
    assert page.get(reverse("portal:logout")).status_code == 405
    page.post(reverse("portal:logout"))
    assert page.get(reverse("portal:overview")).status_code == 302


def test_signing_in_returns_to_the_page_asked_for_but_never_to_another_site(
    alice: Contract,
) -> None:
    client = Client()
    asked = client.get(reverse("portal:statements"))
    assert asked.headers["Location"] == f"{reverse('portal:login')}?next=%2Fmy%2Fstatements%2F"
    back = client.post(
        reverse("portal:login"),
        {"number": ALICE, "password": PASSWORD, "next": reverse("portal:statements")},
    )
    assert back.headers["Location"] == reverse("portal:statements")
    away = Client().post(
        reverse("portal:login"),
        {"number": ALICE, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert away.headers["Location"] == reverse("portal:overview")


@pytest.mark.parametrize(
    "name",
    ["overview", "statements", "calls", "calls-csv", "support", "privacy", "password"],
)
def test_every_page_needs_signing_in(alice: Contract, name: str) -> None:
    response = Client().get(reverse(f"portal:{name}"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("portal:login"))


def test_pages_with_personal_data_are_never_cached(page: Client) -> None:
    assert "no-store" in page.get(reverse("portal:overview")).headers["Cache-Control"]


# --- this month so far, statements ------------------------------------------------------------


def test_this_month_so_far_shows_the_calls_to_date_as_not_yet_billed(
    data: OperatorData, alice: Contract, page: Client
) -> None:
    today = billing_date(timezone.now())
    day = today.replace(day=1).isoformat()
    import_cdr_lines(
        "test",
        [
            call("now-1", ALICE, "0312345678", day, "00:10:00", 200),  # 2 units of 8 yen
            call("now-2", ALICE, "09012345678", day, "00:20:00", 61),  # 2 units of 20 yen
        ],
        data,
    )
    body = text(page.get(reverse("portal:overview")))
    month = Month.of(today)
    assert f"{month.year}年{month.month}月のご利用（ここまで）" in body
    assert "未確定" in body
    assert "国内の一般固定電話" in body
    assert "国内の携帯電話" in body
    assert "56円" in body  # 16 + 40, before tax


def test_last_month_stays_so_far_until_it_is_closed(data: OperatorData, alice: Contract) -> None:
    import_cdr_lines("test", [call("aug", ALICE, "0312345678", "2003-08-30", "12:00:00", 60)], data)
    close_month(Month(2003, 7), data, "test", now=LATER)
    early_september = datetime(2003, 9, 1, 9, 0, tzinfo=TOKYO)
    shown = services.overview(alice, now=early_september).so_far
    assert [(m.month, m.month_over, m.amount_yen) for m in shown] == [
        ("2003-09", False, 0),
        ("2003-08", True, 8),
    ]
    close_month(Month(2003, 8), data, "test", now=LATER)
    assert [m.month for m in services.overview(alice, now=early_september).so_far] == ["2003-09"]


def test_the_statement_page_shows_every_line_and_the_total_of_bill_show(
    august: None, page: Client
) -> None:
    statement = statement_of(ALICE, AUGUST)
    shown = show_statement(ALICE, Month.parse(AUGUST))
    body = text(page.get(reverse("portal:statement", args=[statement.pk])))
    assert f'<span class="total" id="statement-total">{shown.total_yen:,}円</span>' in body
    for line in shown.lines:
        assert line["description"] in body
    assert "確定後に到着" in body  # the late July call
    assert "調整: 通話品質不良による減額" in body
    assert "消費税 5%" in body
    assert "非課税" in body
    assert "未請求" in body  # no debit requested yet


def test_the_statement_list_gives_each_month_with_its_total(august: None, page: Client) -> None:
    body = text(page.get(reverse("portal:statements")))
    for month, label in (("2003-07", "2003年7月"), (AUGUST, "2003年8月")):
        assert label in body
        assert f"{show_statement(ALICE, Month.parse(month)).total_yen:,}円" in body


def test_the_overview_charts_the_last_twelve_statements(august: None, page: Client) -> None:
    response = page.get(reverse("portal:overview"))
    bars = response.context["view"].chart.bars
    assert len(bars) == 12
    assert bars[-1].month == AUGUST
    assert [b.value for b in bars[-2:]] == [
        statement_of(ALICE, "2003-07").total_yen,
        statement_of(ALICE, AUGUST).total_yen,
    ]
    assert bars[0].value is None  # before the contract: no statement
    assert "<svg" in text(response)
    assert "<script" not in text(response)


def test_the_statement_csv_opens_in_excel_and_matches_the_database(
    august: None, page: Client
) -> None:
    statement = statement_of(ALICE, AUGUST)
    response = page.get(reverse("portal:statement-csv", args=[statement.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="statement-{ALICE}-{AUGUST}.csv"' in response["Content-Disposition"]
    rows = read_csv(response.content)
    assert rows[0] == ["区分", "項目", "数量", "通話時間（秒）", "金額（円）"]
    charges = [r for r in rows if r[0] == "料金"]
    lines = list(statement.lines.order_by("position"))
    assert [int(r[4]) for r in charges] == [line.amount_yen for line in lines]
    assert [int(r[2]) for r in charges] == [line.quantity for line in lines]
    assert rows[-1][:2] == ["合計", "ご請求額（税込）"]
    assert int(rows[-1][4]) == show_statement(ALICE, Month.parse(AUGUST)).total_yen
    assert sum(int(r[4]) for r in rows if r[0] == "消費税") == statement.tax_yen


def test_each_statement_shows_its_debit_status_from_the_collection(
    august: None, page: Client
) -> None:
    settings = load_collection_settings()
    for number in (ALICE, BOB):
        save_mandate(
            number,
            settings,
            bank_code="0001",
            branch_code="001",
            account_type="1",
            account_number="1234567",
            holder_kana="ヤマダ タロウ",
        )
    exported = export_debits(Month(2003, 7), settings, "test")
    bob = Contract.objects.get(number=BOB)
    result = bank_result(exported.content, lambda pk: "1" if pk == bob.pk else "0")
    import_results(result, settings, "test", today=date(2003, 8, 28))
    listed = text(page.get(reverse("portal:statements")))
    assert "口座振替済" in listed  # July
    assert "未請求" in listed  # August: no debit yet
    bobs = sign_in(Client(), BOB, "bob-web-pass")
    july = statement_of(BOB, "2003-07")
    assert "振替不能：資金不足" in text(bobs.get(reverse("portal:statement", args=[july.pk])))


# --- calls ------------------------------------------------------------------------------------


def test_the_call_detail_lists_a_months_calls_fifty_to_a_page(august: None, page: Client) -> None:
    first = page.get(reverse("portal:calls"), {"month": AUGUST})
    found = first.context["calls"]
    assert (found.count, found.pages, len(found.rows)) == (61, 2, 50)
    assert "ページ 1 / 2" in text(first)
    second = page.get(reverse("portal:calls"), {"month": AUGUST, "page": "2"}).context["calls"]
    assert len(second.rows) == 11
    expected = list(
        Cdr.objects.filter(contract__number=ALICE, billing_month=AUGUST)
        .order_by("answered_at", "id")
        .values_list("id", flat=True)
    )
    assert [r.id for r in (*found.rows, *second.rows)] == expected
    beyond = page.get(reverse("portal:calls"), {"month": AUGUST, "page": "9"})
    assert beyond.context["calls"].filter.page == 2  # past the end: the last page


def test_the_call_detail_filters_by_class_and_names_it_in_words(august: None, page: Client) -> None:
    response = page.get(reverse("portal:calls"), {"month": AUGUST, "class": "mobile"})
    found = response.context["calls"]
    assert found.count == 20
    assert {r.call_class for r in found.rows} == {"mobile"}
    assert found.amount_yen == sum(
        Cdr.objects.filter(
            contract__number=ALICE, billing_month=AUGUST, call_class="mobile"
        ).values_list("charge_yen", flat=True)
    )
    assert "国内の携帯電話" in text(response)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"month": "2003-13"}, "month"),
        ({"month": "August"}, "month"),
        ({"class": "special_3digit"}, "class"),
        ({"page": "two"}, "page"),
        ({"page": "0"}, "page"),
    ],
    ids=["month-13", "month-word", "refused-class", "page-word", "page-zero"],
)
def test_a_filter_the_page_does_not_offer_is_refused_by_name(
    page: Client, query: dict[str, str], says: str
) -> None:
    response = page.get(reverse("portal:calls"), query)
    assert response.status_code == 400
    assert f"{says} {next(iter(query.values()))!r}" in text(response).replace("&#x27;", "'")
    if says != "page":  # the CSV has every page
        assert page.get(reverse("portal:calls-csv"), query).status_code == 400


def test_the_last_four_digits_can_be_hidden_on_the_page_and_in_the_csv(
    august: None, page: Client
) -> None:
    listed = page.get(reverse("portal:calls"), {"month": AUGUST, "mask": "1"}).context["calls"]
    assert {r.number for r in listed.rows} == {"031234****", "0901234****"}
    one = page.get(reverse("portal:call", args=[listed.rows[1].id]), {"mask": "1"})
    assert "031234****" in text(one)
    assert "0312345678" not in text(one)
    rows = read_csv(page.get(reverse("portal:calls-csv"), {"month": AUGUST, "mask": "1"}).content)
    assert {unwrap_number_cell(r[1]) for r in rows[1:]} == {
        "031234****",
        "0901234****",
        "010121255****",
    }


def test_the_calls_csv_holds_every_call_of_the_filter_as_the_database_has_it(
    august: None, page: Client
) -> None:
    response = page.get(reverse("portal:calls-csv"), {"month": AUGUST})
    assert f'filename="calls-{ALICE}-{AUGUST}.csv"' in response["Content-Disposition"]
    rows = read_csv(response.content)
    assert rows[0] == [
        "日時",
        "通話先番号",
        "種別",
        "通話時間（秒）",
        "通話時間",
        "通話料（円・税抜）",
    ]
    expected = [
        (
            c.answered_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S"),
            c.callee,
            c.billed_seconds,
            c.charge_yen,
        )
        for c in Cdr.objects.filter(contract__number=ALICE, billing_month=AUGUST).order_by(
            "answered_at", "id"
        )
        if c.answered_at
    ]
    assert [(r[0], unwrap_number_cell(r[1]), int(r[3]), int(r[5])) for r in rows[1:]] == expected
    assert '="0312345678"' in {r[1] for r in rows}  # Excel keeps the leading 0
    assert "国際通話" in {r[2] for r in rows[1:]}


def test_one_call_shows_how_its_charge_was_reached(august: None, page: Client) -> None:
    cdr = Cdr.objects.get(cdr_id="a-intl")
    body = text(page.get(reverse("portal:call", args=[cdr.pk])))
    assert "0101212555123" in body
    assert "国際通話" in body
    assert f"{cdr.charge_yen:,}円" in body
    assert "非課税" in body


# --- language ---------------------------------------------------------------------------------


def test_the_pages_switch_to_english_and_back(august: None, page: Client) -> None:
    statement = statement_of(ALICE, AUGUST)
    url = reverse("portal:statement", args=[statement.pk])
    page.post(reverse("set_language"), {"language": "en", "next": url})
    english = text(page.get(url))
    assert "Statement for Aug 2003" in english
    assert "Calls: Mobile phones" in english
    assert "Adjustment" in english
    assert "通話品質不良による減額" in english
    assert "not yet requested" in english
    rows = read_csv(page.get(reverse("portal:calls-csv"), {"month": AUGUST}).content)
    assert rows[0][0] == "Date and time"
    assert "Fixed lines in Japan" in {r[2] for r in rows}
    page.post(reverse("set_language"), {"language": "ja", "next": url})
    assert "2003年8月分のご請求" in text(page.get(url))


# --- support and personal data ----------------------------------------------------------------


def test_an_inquiry_is_sent_and_the_operators_reply_appears(alice: Contract, page: Client) -> None:
    sent = page.post(
        reverse("portal:support"), {"subject": "通話料について", "body": "8月の請求を確認したい"}
    )
    inquiry = Inquiry.objects.get(contract=alice)
    assert sent.headers["Location"] == reverse("portal:inquiry", args=[inquiry.pk])
    assert "まだ回答はありません" in text(page.get(sent.headers["Location"]))
    reply_to_inquiry(inquiry, "ご確認ありがとうございます。", "console:tanaka")
    body = text(page.get(reverse("portal:inquiry", args=[inquiry.pk])))
    assert "ご確認ありがとうございます。" in body
    assert "console:tanaka" not in body
    listed = text(page.get(reverse("portal:support")))
    assert "通話料について" in listed
    assert "回答済み" in listed


@pytest.mark.parametrize(
    "form",
    [{"subject": "", "body": "text"}, {"subject": "件名", "body": "   "}],
    ids=["no-subject", "blank-message"],
)
def test_an_inquiry_without_subject_or_message_is_refused(
    alice: Contract, page: Client, form: dict[str, str]
) -> None:
    response = page.post(reverse("portal:support"), form)
    assert response.status_code == 200
    assert "このフィールドは必須です。" in text(response)
    assert not Inquiry.objects.exists()


def test_the_subscriber_sees_the_record_of_their_data_given_to_others(
    alice: Contract, bob: Contract, page: Client
) -> None:
    when = datetime(2003, 9, 1, 10, 0, tzinfo=TOKYO)
    record_provision(ALICE, "ntt_com", "氏名・050番号", "通話不具合の調査", when, "console:x")
    record_provision(BOB, "support_contractor", "住所", "機器交換", when, "console:x")
    body = text(page.get(reverse("portal:privacy")))
    assert "NTTコミュニケーションズ" in body
    assert "通話不具合の調査" in body
    assert "機器交換" not in body


# --- isolation --------------------------------------------------------------------------------


@pytest.fixture
def bobs(august: None, bob: Contract) -> dict[str, int]:
    """The ids of Bob's statement, call and inquiry."""
    inquiry = Inquiry.objects.create(contract=bob, subject="bob's", body="private")
    DataProvision.objects.none()
    return {
        "statement": statement_of(BOB, AUGUST).pk,
        "statement-csv": statement_of(BOB, AUGUST).pk,
        "call": Cdr.objects.get(cdr_id="b001").pk,
        "inquiry": inquiry.pk,
    }


@pytest.mark.parametrize("name", ["statement", "statement-csv", "call", "inquiry"])
def test_another_subscribers_record_by_url_is_not_found(
    bobs: dict[str, int], page: Client, name: str
) -> None:
    assert page.get(reverse(f"portal:{name}", args=[bobs[name]])).status_code == 404
    assert page.get(reverse(f"portal:{name}", args=[10**9])).status_code == 404


def test_a_call_that_is_not_an_answered_outbound_call_of_ones_own_is_not_found(
    data: OperatorData, alice: Contract, page: Client
) -> None:
    import_cdr_lines(
        "test",
        [
            json.dumps(
                {
                    "id": "missed",
                    "caller": ALICE,
                    "callee": "0312345678",
                    "start": "2003-08-01T10:00:00+09:00",
                    "answer": None,
                    "end": "2003-08-01T10:00:20+09:00",
                    "disposition": "no_answer",
                }
            )
        ],
        data,
    )
    missed = Cdr.objects.get(cdr_id="missed")
    assert page.get(reverse("portal:call", args=[missed.pk])).status_code == 404


# --- the operator's side ----------------------------------------------------------------------


@pytest.fixture
def console() -> Iterator[Client]:
    operator = User.objects.create_superuser("tanaka", "tanaka@example.jp", "not-a-real-one")
    client = Client()
    client.force_login(operator)
    return client


def test_the_console_issues_a_web_password_shown_once(data: OperatorData, console: Client) -> None:
    contract = subscribe(data, ALICE, date(2003, 7, 15))
    url = reverse("admin:subscribers_contract_changelist")
    selected = {"action": "issue_web_password", ACTION_CHECKBOX_NAME: [contract.pk]}
    asked = console.post(url, selected)
    assert asked.status_code == 200
    assert "must_change" in text(asked)
    shown = console.post(url, {**selected, "apply": "1", "must_change": "on"})
    assert shown.status_code == 200
    password = shown.context["issued"][0].password
    assert f'<code class="issued-password">{password}</code>' in text(shown)
    account = accounts.sign_in(ALICE, password, "192.0.2.1")
    assert account.must_change
    assert account.password_set_by == "console:tanaka"


def test_the_console_lists_web_sign_ins_and_lifts_a_lock(alice: Contract, console: Client) -> None:
    account = WebAccount.objects.get(contract=alice)
    WebAccount.objects.filter(pk=account.pk).update(
        failed_attempts=5, locked_until=timezone.now() + timedelta(minutes=10)
    )
    url = reverse("admin:portal_webaccount_changelist")
    assert ALICE in text(console.get(url))
    console.post(url, {"action": "unlock", ACTION_CHECKBOX_NAME: [account.pk]})
    account.refresh_from_db()
    assert (account.failed_attempts, account.locked_until) == (0, None)
    assert PASSWORD not in text(
        console.get(reverse("admin:portal_webaccount_change", args=[account.pk]))
    )


def test_the_console_answers_an_inquiry_from_the_portal(alice: Contract, console: Client) -> None:
    page = sign_in(Client())
    page.post(reverse("portal:support"), {"subject": "質問", "body": "本文"})
    inquiry = Inquiry.objects.get()
    url = reverse("admin:support_inquiry_changelist")
    console.post(
        url,
        {"action": "reply", ACTION_CHECKBOX_NAME: [inquiry.pk], "apply": "1", "body": "回答です"},
    )
    assert "回答です" in text(page.get(reverse("portal:inquiry", args=[inquiry.pk])))


def test_a_password_that_the_rules_refuse_is_not_issued(alice: Contract) -> None:
    with pytest.raises(PasswordRejected):
        accounts.issue_password(ALICE, "test", "short")
