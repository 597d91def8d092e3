"""The call path's hand-made spool lines are exactly the JSON the plain encoder writes."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from denwa.sip.spool import call_fields, cdr_line, iso, journal_line

ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

moments = st.floats(min_value=946_684_800, max_value=4_102_444_800, allow_nan=False)
texts = st.text()  # what a SIP message may carry: quotes, backslashes, control characters, kana
dispositions = st.sampled_from(
    ["answered", "busy", "no_answer", "cancelled", "refused", "failed", "in_progress"]
)


@given(
    texts,
    texts,
    texts,
    moments,
    st.none() | moments,
    moments,
    dispositions,
    st.none() | st.integers(100, 699),
)
def test_a_cdr_line_is_the_encoded_record(
    cdr_id: str,
    caller: str,
    callee: str,
    start: float,
    answer: float | None,
    end: float,
    disposition: str,
    sip_code: int | None,
) -> None:
    record = {
        "id": cdr_id,
        "caller": caller,
        "callee": callee,
        "start": iso(start),
        "answer": iso(answer),
        "end": iso(end),
        "disposition": disposition,
        "sip_code": sip_code,
    }
    call = call_fields(cdr_id, caller, callee, start)
    line = cdr_line(call, iso(answer), iso(end), disposition, sip_code)
    assert line == ENCODE(record) + "\n"
    assert json.loads(line) == record


@given(texts, texts, texts, moments, moments, st.integers(1, 86_400))
def test_a_journal_line_is_the_encoded_record(
    cdr_id: str, caller: str, callee: str, start: float, answer: float, max_seconds: int
) -> None:
    record = {
        "id": cdr_id,
        "caller": caller,
        "callee": callee,
        "start": iso(start),
        "answer": iso(answer),
        "end": None,
        "disposition": "in_progress",
        "max_end": iso(answer + max_seconds),
    }
    call = call_fields(cdr_id, caller, callee, start)
    line = journal_line(call, iso(answer), iso(answer + max_seconds))
    assert line == ENCODE(record) + "\n"
