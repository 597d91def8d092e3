"""ご利用明細照会 in a real browser: Debian's Chromium, headless, against ``denwa serve``.

A subscriber signs in, reads this month so far and a statement (whose total is
the one ``denwa bill show`` prints), downloads the CSV files (compared with the
database), switches to English and back, asks a question that an operator
answers in the console, cannot open another subscriber's records, and is
locked out after five wrong passwords.  Every page is checked to fit a 375-px
phone and photographed at desktop and phone width.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from denwa.core.timeutil import TOKYO
from denwa.portal.formats import unwrap_number_cell
from tests.e2e.browser.conftest import DESKTOP, PHONE, PortalServer
from tests.e2e.browser.portal_data import ALICE, BOB, CAROL, OPERATOR, PASSWORDS

pytestmark = pytest.mark.e2e


def sign_in(page: Any, server: PortalServer, number: str) -> None:
    page.goto(f"{server.url}/my/login/")
    page.fill("input[name=number]", number)
    page.fill("input[name=password]", PASSWORDS[number])
    submit(page, "button[type=submit].primary")
    assert page.url == f"{server.url}/my/"


def submit(page: Any, selector: str) -> None:
    """Click a form's button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


@pytest.fixture(scope="module")
def alice(browser: Any, server: PortalServer) -> Iterator[Any]:
    """A browser window signed in as ALICE, in Japanese (the default)."""
    context = browser.new_context(
        viewport=DESKTOP, locale="ja-JP", accept_downloads=True, timezone_id="Asia/Tokyo"
    )
    page = context.new_page()
    sign_in(page, server, ALICE)
    yield page
    context.close()


def shoot(page: Any, folder: Path, name: str) -> None:
    """The page at desktop and at phone width; a phone page must not scroll sideways."""
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    assert overflow <= PHONE["width"], f"{name} is {overflow} px wide on a 375-px phone"


def read_download(page: Any, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def database(server: PortalServer, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.database) as db:
        return list(db.execute(sql, params))


def tokyo(stored: str) -> str:
    """A datetime as SQLite holds it (UTC text) in Asia/Tokyo, as the CSV writes it."""
    moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S")


# --- the tests ------------------------------------------------------------------------------


def test_a_subscriber_signs_in_and_sees_this_month_so_far(
    alice: Any, server: PortalServer, screenshots: Path
) -> None:
    alice.goto(f"{server.url}/my/")
    so_far = alice.locator(f"#so-far-{server.facts['current']}")
    assert "未確定" in so_far.inner_text()
    assert "国内の携帯電話" in so_far.inner_text()
    assert so_far.locator(".so-far-total").inner_text() == "40円"  # 95 s to a mobile: 2 x 20
    assert alice.locator("#chart svg rect.bar").count() == 12
    shoot(alice, screenshots, "01-overview")


def test_the_statement_total_is_the_one_denwa_bill_show_prints(
    alice: Any, server: PortalServer, screenshots: Path
) -> None:
    last = server.facts["last"]
    alice.goto(f"{server.url}/my/statements/")
    shoot(alice, screenshots, "02-statements")
    alice.click(f"tr[data-month='{last}'] a")
    expect(alice.locator("#statement-total")).to_be_visible()
    shown = json.loads(server.denwa("bill", "show", ALICE, last, "--json"))
    assert alice.locator("#statement-total").inner_text() == f"{shown['total_yen']:,}円"
    lines = alice.locator("#lines").inner_text()
    assert "確定後に到着" in lines  # the late call of the month before
    assert "調整: 通話品質不良による減額" in lines
    assert alice.locator("#debit-status").inner_text() == "未請求"
    shoot(alice, screenshots, "03-statement")


def test_the_downloaded_csv_files_hold_what_the_database_holds(
    alice: Any, server: PortalServer, screenshots: Path
) -> None:
    last = server.facts["last"]
    alice.goto(f"{server.url}/my/calls/?month={last}")
    assert alice.locator("#page-of").inner_text() == "ページ 1 / 2"
    shoot(alice, screenshots, "04-calls")
    rows = csv_rows(read_download(alice, "#calls-csv"))
    stored = database(
        server,
        "SELECT c.answered_at, c.callee, c.billed_seconds, c.charge_yen FROM calls_cdr c"
        " JOIN subscribers_contract s ON s.id = c.contract_id WHERE s.number = ?"
        " AND c.billing_month = ? AND c.direction = 'out' AND c.answered_at IS NOT NULL"
        " ORDER BY c.answered_at, c.id",
        ALICE,
        last,
    )
    assert len(rows) == 1 + 61
    assert [(r[0], unwrap_number_cell(r[1]), int(r[3]), int(r[5])) for r in rows[1:]] == [
        (tokyo(answered), callee, seconds, charge) for answered, callee, seconds, charge in stored
    ]
    alice.goto(f"{server.url}/my/statements/{server.facts['alice_statement']}/")
    statement = csv_rows(read_download(alice, "#statement-csv"))
    (total,) = database(
        server,
        "SELECT st.total_yen FROM billing_statement st JOIN subscribers_contract s"
        " ON s.id = st.contract_id WHERE s.number = ? AND st.month = ?",
        ALICE,
        last,
    )
    assert statement[-1][0] == "合計"
    assert int(statement[-1][4]) == total[0]
    charged = database(
        server,
        "SELECT amount_yen FROM billing_statementline WHERE statement_id = ? ORDER BY position",
        server.facts["alice_statement"],
    )
    assert [int(r[4]) for r in statement if r[0] == "料金"] == [a for (a,) in charged]


def test_the_last_four_digits_can_be_hidden(
    alice: Any, server: PortalServer, screenshots: Path
) -> None:
    alice.goto(f"{server.url}/my/calls/?month={server.facts['last']}")
    alice.check("input[name=mask]")
    alice.click("#call-filters button[type=submit]")
    alice.wait_for_url("**mask=1**")
    numbers = alice.locator("#calls td.number").all_inner_texts()
    assert numbers
    assert all(n.endswith("****") for n in numbers)
    alice.click("#calls tbody tr:first-child a")
    expect(alice.locator("#call")).to_contain_text("****")
    shoot(alice, screenshots, "05-call")


def test_the_pages_switch_to_english_and_back(
    alice: Any, server: PortalServer, screenshots: Path
) -> None:
    alice.goto(f"{server.url}/my/statements/")
    alice.click("button[value=en]")
    try:
        expect(alice.locator("html")).to_have_attribute("lang", "en")
        assert alice.locator("h1").inner_text() == "Statements"
        assert "not yet requested" in alice.locator("#statements").inner_text()
        alice.goto(f"{server.url}/my/statements/{server.facts['alice_statement']}/")
        assert "Calls: Mobile phones" in alice.locator("#lines").inner_text()
        shoot(alice, screenshots, "10-statement-english")
        alice.goto(f"{server.url}/my/calls/?month={server.facts['last']}")
        assert "Mobile phones" in alice.locator("#calls").inner_text()
    finally:
        alice.click("button[value=ja]")
    expect(alice.locator("h1")).to_have_text("通話明細")


def test_an_inquiry_is_answered_by_an_operator_in_the_console(
    alice: Any, browser: Any, server: PortalServer, screenshots: Path
) -> None:
    alice.goto(f"{server.url}/my/support/")
    alice.fill("input[name=subject]", "国際通話の料金について")
    alice.fill("textarea[name=body]", "先月の国際通話の料金を教えてください。")
    alice.click("#inquiry-form button[type=submit]")
    expect(alice.locator("#no-reply")).to_be_visible()
    inquiry_url = alice.url

    operator = browser.new_context(viewport=DESKTOP, locale="ja-JP")
    console = operator.new_page()
    console.goto(f"{server.url}/console/support/inquiry/")
    console.fill("input[name=username]", OPERATOR[0])
    console.fill("input[name=password]", OPERATOR[1])
    console.click("input[type=submit]")
    console.wait_for_url(f"{server.url}/console/support/inquiry/")
    row = console.locator("#result_list tr", has_text="国際通話の料金について")
    row.locator("input[name=_selected_action]").check()
    console.select_option("select[name=action]", "reply")
    console.click("button[name=index]")
    expect(console.locator("textarea[name=body]")).to_be_visible()
    console.fill("textarea[name=body]", "国際通話は非課税です。明細の「非課税」欄をご覧ください。")
    console.click("input[name=apply]")
    expect(console.locator(".messagelist .success")).to_have_count(1)
    operator.close()

    alice.goto(inquiry_url)
    assert "国際通話は非課税です。" in alice.locator(".reply").inner_text()
    shoot(alice, screenshots, "06-inquiry")
    alice.goto(f"{server.url}/my/support/")
    shoot(alice, screenshots, "07-support")
    alice.goto(f"{server.url}/my/privacy/")
    assert "通話品質の調査" in alice.locator("#provisions").inner_text()
    shoot(alice, screenshots, "08-privacy")


@pytest.mark.parametrize(
    ("path", "fact"),
    [
        ("/my/statements/{}/", "bob_statement"),
        ("/my/statements/{}/csv/", "bob_statement"),
        ("/my/calls/{}/", "bob_call"),
        ("/my/support/{}/", "bob_inquiry"),
    ],
    ids=["statement", "statement-csv", "call", "inquiry"],
)
def test_another_subscribers_record_by_url_is_not_found(
    alice: Any, server: PortalServer, path: str, fact: str
) -> None:
    response = alice.goto(server.url + path.format(server.facts[fact]))
    assert response.status == 404
    assert BOB not in alice.content()


def test_five_wrong_passwords_lock_the_number(
    browser: Any, server: PortalServer, screenshots: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{server.url}/my/login/")
    shoot(page, screenshots, "00-login")
    for attempt in range(5):
        page.fill("input[name=number]", CAROL)
        page.fill("input[name=password]", f"wrong-{attempt}")
        submit(page, "button[type=submit].primary")
    expect(page.locator("#refusal")).to_contain_text("までログインできません")
    page.fill("input[name=number]", CAROL)
    page.fill("input[name=password]", PASSWORDS[CAROL])
    submit(page, "button[type=submit].primary")
    expect(page.locator("#refusal")).to_contain_text("までログインできません")
    assert page.url.endswith("/my/login/")
    shoot(page, screenshots, "09-locked")
    context.close()
