"""Properties of the Zengin files and the kana conversion that hold for every input (SPEC §4).

Any set of debits makes a file of 120-byte single-byte records that the
bank's answer (any result codes) reads back to the same debits; any text
either converts to the banks' set — and converting again changes nothing — or
is refused naming a character.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from denwa.core.collection.config import RecordSeparator, load_collection_settings
from denwa.core.collection.errors import UnconvertibleText
from denwa.core.collection.files import (
    DebitRecord,
    Requested,
    customer_number,
    match_results,
    read_result_file,
    request_file,
)
from denwa.core.collection.kana import KATAKANA, allowed_characters, to_bank_kana
from denwa.core.collection.mandate import Mandate
from denwa.core.collection.results import RESULT_CODES
from tests.zengin_bank import bank_result

pytestmark = pytest.mark.unit

SETTINGS = load_collection_settings()
ALLOWED = allowed_characters()

names = st.text(alphabet=sorted(KATAKANA | set("ABCXYZ0189 ().-/")), min_size=1, max_size=30)
mandates = st.builds(
    Mandate,
    bank_code=st.from_regex(r"[0-9]{4}", fullmatch=True),
    branch_code=st.from_regex(r"[0-9]{3}", fullmatch=True),
    account_type=st.sampled_from(["1", "2", "9"]),
    account_number=st.from_regex(r"[0-9]{7}", fullmatch=True),
    holder_kana=names,
    bank_name=names.map(lambda n: n[:15]),
    branch_name=names.map(lambda n: n[:15]),
)
debits = st.lists(
    st.tuples(mandates, st.integers(min_value=1, max_value=9_999_999_999)),
    max_size=20,
)


@given(debits, st.data())
def test_any_request_file_reads_back_from_the_banks_answer(
    drawn: list[tuple[Mandate, int]], data: st.DataObject
) -> None:
    records = [
        DebitRecord(customer_number(index, 20), mandate, amount)
        for index, (mandate, amount) in enumerate(drawn, start=1)
    ]
    raw = request_file(SETTINGS, date(2026, 12, 28), records)
    assert all(len(line) == 120 for line in raw.split(b"\r\n")[:-1])
    codes = [data.draw(st.sampled_from(sorted(RESULT_CODES))) for _ in records]

    result = read_result_file(bank_result(raw, lambda n: codes[n - 1]), RecordSeparator.CRLF)
    pairs = match_results(
        result,
        {
            r.customer_number: Requested(
                r.customer_number,
                r.mandate.bank_code,
                r.mandate.branch_code,
                r.mandate.account_type,
                r.mandate.account_number,
                r.amount_yen,
            )
            for r in records
        },
    )

    assert [(req.amount_yen, rec.result_code) for req, rec in pairs] == [
        (r.amount_yen, code) for r, code in zip(records, codes, strict=True)
    ]


@given(st.text(max_size=40))
def test_any_text_converts_to_the_banks_set_for_good_or_is_refused(text: str) -> None:
    refused: UnconvertibleText | None = None
    try:
        converted = to_bank_kana(text, "holder_kana")
    except UnconvertibleText as error:
        refused = error
    if refused is not None:
        assert refused.char not in ALLOWED
        return
    assert set(converted) <= ALLOWED
    assert to_bank_kana(converted, "holder_kana") == converted
