"""The bank's side of a Zengin 口座振替 exchange, for tests: a result file made from a request.

It writes bytes at the record layout's positions (振替結果コード at byte 112 of
each data record, the trailer's paid and unpaid counts and sums at bytes
20-55) — independently of the code under test.
"""

from __future__ import annotations

from collections.abc import Callable

CRLF = b"\r\n"


def records_of(raw: bytes) -> list[bytearray]:
    """The records of a file with CR LF after each."""
    return [bytearray(piece) for piece in raw.split(CRLF)[:-1]]


def joined(records: list[bytearray]) -> bytes:
    """Records back into a file, CR LF after each."""
    return b"".join(bytes(record) + CRLF for record in records)


def put(record: bytearray, start: int, text: str) -> None:
    """Write ``text`` (single-byte characters) at the 1-based byte ``start`` of ``record``."""
    encoded = text.encode("cp932")
    record[start - 1 : start - 1 + len(encoded)] = encoded


def bank_result(raw: bytes, code_of: Callable[[int], str]) -> bytes:
    """The bank's answer to request file ``raw``: each data record's 振替結果コード, chosen by
    ``code_of(customer number as an int)``, and the trailer's totals to match."""
    records = records_of(raw)
    paid = unpaid = paid_yen = unpaid_yen = 0
    for record in records[1:-2]:
        code = code_of(int(record[91:111]))
        put(record, 112, code)
        amount = int(record[80:90])
        if code == "0":
            paid, paid_yen = paid + 1, paid_yen + amount
        else:
            unpaid, unpaid_yen = unpaid + 1, unpaid_yen + amount
    put(records[-2], 20, f"{paid:06d}{paid_yen:012d}{unpaid:06d}{unpaid_yen:012d}")
    return joined(records)
