"""Number analysis: every dialled string gets exactly one class (SPEC §1).

The table is the specification: a row that fails is a billing or safety defect.
Ranges come from the shipped sample data (own 050-5550, free partners 050-5551/5552,
paid partners 050-5553/5554, no agreement 050-9990, PHS 070-5x/070-6, mobile 070-1…4/7…9).
"""

from __future__ import annotations

from typing import Any

import pytest

from denwa.core.numbering import CallClass, Privacy, Problem, analyse
from denwa.core.operator_data.bundle import OperatorData

pytestmark = pytest.mark.unit

C = CallClass


def row(dialled: str, call_class: CallClass, number: str | None, id: str, **expect: Any) -> Any:
    return pytest.param(dialled, call_class, number, expect, id=id)


TABLE = [
    # --- onnet: our own 050 block ---------------------------------------------------
    row("05055500001", C.ONNET, "05055500001", "onnet"),
    row("05055509999", C.ONNET, "05055509999", "onnet-last-of-block"),
    row("050-5550-0001", C.ONNET, "05055500001", "onnet-with-hyphens"),
    row("+815055500001", C.ONNET, "05055500001", "onnet-e164-plus"),
    row("815055500001", C.ONNET, "05055500001", "onnet-e164-no-plus"),
    row("18405055500001", C.ONNET, "05055500001", "onnet-184", privacy=Privacy.WITHHOLD),
    row("18605055500001", C.ONNET, "05055500001", "onnet-186", privacy=Privacy.PRESENT),
    row("0505550000", C.INVALID, None, "onnet-one-short", problem=Problem.INCOMPLETE),
    row("050555000012", C.INVALID, None, "onnet-one-long", problem=Problem.TOO_LONG),
    # --- partner ISPs ----------------------------------------------------------------
    row("05055510001", C.IP_PARTNER_FREE, "05055510001", "partner-free-a"),
    row("05055529999", C.IP_PARTNER_FREE, "05055529999", "partner-free-b"),
    row("+815055510001", C.IP_PARTNER_FREE, "05055510001", "partner-free-e164"),
    row("05055530001", C.IP_PARTNER_PAID, "05055530001", "partner-paid-c"),
    row("05055540001", C.IP_PARTNER_PAID, "05055540001", "partner-paid-d"),
    row(
        "18405055530001",
        C.IP_PARTNER_PAID,
        "05055530001",
        "partner-paid-184",
        privacy=Privacy.WITHHOLD,
    ),
    row("0505553000", C.INVALID, None, "partner-paid-one-short", problem=Problem.INCOMPLETE),
    # --- other 050 -------------------------------------------------------------------
    row("05033001234", C.IP_OTHER, "05033001234", "ip-other-ntt-com"),
    row("05050001234", C.IP_OTHER, "05050001234", "ip-other"),
    row("05055560001", C.IP_OTHER, "05055560001", "ip-other-next-to-our-blocks"),
    row("+815033001234", C.IP_OTHER, "05033001234", "ip-other-e164"),
    row("18605033001234", C.IP_OTHER, "05033001234", "ip-other-186", privacy=Privacy.PRESENT),
    row("050330012345", C.INVALID, None, "ip-other-one-long", problem=Problem.TOO_LONG),
    row("05099901234", C.NO_AGREEMENT, "05099901234", "ip-no-agreement-block"),
    row("05099911234", C.IP_OTHER, "05099911234", "ip-next-to-no-agreement-block"),
    # --- domestic fixed 0AB-J ----------------------------------------------------------
    row("0312345678", C.DOMESTIC_FIXED, "0312345678", "fixed-tokyo"),
    row("0612345678", C.DOMESTIC_FIXED, "0612345678", "fixed-osaka"),
    row("0112345678", C.DOMESTIC_FIXED, "0112345678", "fixed-sapporo-011"),
    row("0123456789", C.DOMESTIC_FIXED, "0123456789", "fixed-chitose-0123"),
    row("0985123456", C.DOMESTIC_FIXED, "0985123456", "fixed-miyazaki"),
    row("0466123456", C.DOMESTIC_FIXED, "0466123456", "fixed-fujisawa"),
    row("03-1234-5678", C.DOMESTIC_FIXED, "0312345678", "fixed-hyphens"),
    row("(03) 1234-5678", C.DOMESTIC_FIXED, "0312345678", "fixed-brackets-space"),
    row("+81312345678", C.DOMESTIC_FIXED, "0312345678", "fixed-e164-plus"),
    row("81312345678", C.DOMESTIC_FIXED, "0312345678", "fixed-e164-no-plus"),
    row("1840312345678", C.DOMESTIC_FIXED, "0312345678", "fixed-184", privacy=Privacy.WITHHOLD),
    row("1860312345678", C.DOMESTIC_FIXED, "0312345678", "fixed-186", privacy=Privacy.PRESENT),
    row("031234567", C.INVALID, None, "fixed-one-short", problem=Problem.INCOMPLETE),
    row("03123456789", C.INVALID, None, "fixed-one-long", problem=Problem.TOO_LONG),
    row("+8131234567", C.INVALID, None, "fixed-e164-one-short", problem=Problem.INCOMPLETE),
    row(
        "184031234567",
        C.INVALID,
        None,
        "fixed-184-one-short",
        problem=Problem.INCOMPLETE,
        privacy=Privacy.WITHHOLD,
    ),
    # --- mobile ----------------------------------------------------------------------
    row("09012345678", C.MOBILE, "09012345678", "mobile-090"),
    row("08012345678", C.MOBILE, "08012345678", "mobile-080"),
    row("07012345678", C.MOBILE, "07012345678", "mobile-070-1"),
    row("07041234567", C.MOBILE, "07041234567", "mobile-070-4"),
    row("07071234567", C.MOBILE, "07071234567", "mobile-070-7"),
    row("07091234567", C.MOBILE, "07091234567", "mobile-070-9"),
    row("+819012345678", C.MOBILE, "09012345678", "mobile-e164-plus"),
    row("819012345678", C.MOBILE, "09012345678", "mobile-e164-no-plus"),
    row("18409012345678", C.MOBILE, "09012345678", "mobile-184", privacy=Privacy.WITHHOLD),
    row("090-1234-5678", C.MOBILE, "09012345678", "mobile-hyphens"),
    row("0901234567", C.INVALID, None, "mobile-one-short", problem=Problem.INCOMPLETE),
    row("090123456789", C.INVALID, None, "mobile-one-long", problem=Problem.TOO_LONG),
    row("0801234567", C.INVALID, None, "mobile-080-one-short", problem=Problem.INCOMPLETE),
    # --- PHS (070 blocks by carrier) ----------------------------------------------------
    row("07050123456", C.PHS, "07050123456", "phs-ddi-pocket"),
    row("07061234567", C.PHS, "07061234567", "phs-ddi-pocket-070-6"),
    row("07053123456", C.PHS, "07053123456", "phs-docomo"),
    row("07055123456", C.PHS, "07055123456", "phs-astel-tokyo"),
    row("07056123456", C.PHS, "07056123456", "phs-astel-other"),
    row("+817053123456", C.PHS, "07053123456", "phs-e164"),
    row("18407053123456", C.PHS, "07053123456", "phs-184", privacy=Privacy.WITHHOLD),
    row("0705312345", C.INVALID, None, "phs-one-short", problem=Problem.INCOMPLETE),
    row("070531234567", C.INVALID, None, "phs-one-long", problem=Problem.TOO_LONG),
    row("07001234567", C.NO_AGREEMENT, "07001234567", "070-block-in-no-table"),
    # --- international: 010 + country code (1, 2, 3 digits) -----------------------------
    row("01012125550123", C.INTERNATIONAL, "01012125550123", "intl-cc1-usa", country_code="1"),
    row("0101-212-555-0123", C.INTERNATIONAL, "01012125550123", "intl-hyphens", country_code="1"),
    row("0107495123456", C.INTERNATIONAL, "0107495123456", "intl-cc7-russia", country_code="7"),
    row("010442071234567", C.INTERNATIONAL, "010442071234567", "intl-cc44-uk", country_code="44"),
    row("0108613912345678", C.INTERNATIONAL, "0108613912345678", "intl-cc86", country_code="86"),
    row("010821012345678", C.INTERNATIONAL, "010821012345678", "intl-cc82", country_code="82"),
    row("01085221234567", C.INTERNATIONAL, "01085221234567", "intl-cc852", country_code="852"),
    row("010886212345678", C.INTERNATIONAL, "010886212345678", "intl-cc886", country_code="886"),
    row("01035312345678", C.INTERNATIONAL, "01035312345678", "intl-cc353", country_code="353"),
    row("0106831234", C.INTERNATIONAL, "0106831234", "intl-cc683-short-nsn", country_code="683"),
    row("+12125550123", C.INTERNATIONAL, "01012125550123", "intl-e164-plus", country_code="1"),
    row("+442071234567", C.INTERNATIONAL, "010442071234567", "intl-e164-uk", country_code="44"),
    row(
        "18401012125550123",
        C.INTERNATIONAL,
        "01012125550123",
        "intl-184",
        privacy=Privacy.WITHHOLD,
        country_code="1",
    ),
    row("01081312345678", C.DOMESTIC_FIXED, "0312345678", "intl-to-japan-is-national"),
    row("010819012345678", C.MOBILE, "09012345678", "intl-to-japan-mobile-is-national"),
    row("010", C.INVALID, None, "intl-prefix-only", problem=Problem.INCOMPLETE),
    row("0108", C.INVALID, None, "intl-partial-country-code", problem=Problem.INCOMPLETE),
    row("0101212", C.INVALID, None, "intl-nsn-too-short", problem=Problem.INCOMPLETE),
    row("0109991234567", C.INVALID, None, "intl-spare-code-999", problem=Problem.UNKNOWN_COUNTRY),
    row("0102801234567", C.INVALID, None, "intl-spare-code-280", problem=Problem.UNKNOWN_COUNTRY),
    row("0101234567890123456", C.INVALID, None, "intl-over-15-digits", problem=Problem.TOO_LONG),
    row("010123456789012345", C.INTERNATIONAL, "010123456789012345", "intl-exactly-15-digits"),
    # --- three-digit 1XY: emergency and services ------------------------------------------
    row("110", C.SPECIAL_3DIGIT, "110", "police-110"),
    row("118", C.SPECIAL_3DIGIT, "118", "coast-guard-118"),
    row("119", C.SPECIAL_3DIGIT, "119", "fire-ambulance-119"),
    row("104", C.SPECIAL_3DIGIT, "104", "directory-104"),
    row("117", C.SPECIAL_3DIGIT, "117", "time-117"),
    row("177", C.SPECIAL_3DIGIT, "177", "weather-177"),
    row("171", C.SPECIAL_3DIGIT, "171", "disaster-board-171"),
    row("100", C.SPECIAL_3DIGIT, "100", "operator-100"),
    row("184", C.SPECIAL_3DIGIT, "184", "184-alone-is-a-3-digit-number"),
    row("186", C.SPECIAL_3DIGIT, "186", "186-alone-is-a-3-digit-number"),
    row("184110", C.SPECIAL_3DIGIT, "110", "184-then-110", privacy=Privacy.WITHHOLD),
    row("186119", C.SPECIAL_3DIGIT, "119", "186-then-119", privacy=Privacy.PRESENT),
    row("1", C.INVALID, None, "one-digit-1", problem=Problem.INCOMPLETE),
    row("11", C.INVALID, None, "3-digit-one-short", problem=Problem.INCOMPLETE),
    row("1100", C.INVALID, None, "3-digit-one-long", problem=Problem.TOO_LONG),
    row("1190", C.INVALID, None, "119-one-long", problem=Problem.TOO_LONG),
    # --- non-geographic ----------------------------------------------------------------
    row("0120123456", C.NON_GEOGRAPHIC, "0120123456", "freephone-0120"),
    row("0120-123-456", C.NON_GEOGRAPHIC, "0120123456", "freephone-0120-hyphens"),
    row("08001234567", C.NON_GEOGRAPHIC, "08001234567", "freephone-0800"),
    row("0570123456", C.NON_GEOGRAPHIC, "0570123456", "navi-dial-0570"),
    row("0180123456", C.NON_GEOGRAPHIC, "0180123456", "info-0180"),
    row("0990123456", C.NON_GEOGRAPHIC, "0990123456", "dial-q2-0990"),
    row("0170123456", C.NON_GEOGRAPHIC, "0170123456", "dengon-0170"),
    row("02012345678", C.NON_GEOGRAPHIC, "02012345678", "pager-m2m-020"),
    row("06012345678", C.NON_GEOGRAPHIC, "06012345678", "fmc-060"),
    row("1840120123456", C.NON_GEOGRAPHIC, "0120123456", "freephone-184", privacy=Privacy.WITHHOLD),
    row("+81120123456", C.NON_GEOGRAPHIC, "0120123456", "freephone-e164"),
    row("012012345", C.INVALID, None, "freephone-one-short", problem=Problem.INCOMPLETE),
    row("01201234567", C.INVALID, None, "freephone-one-long", problem=Problem.TOO_LONG),
    row("0800123456", C.INVALID, None, "freephone-0800-one-short", problem=Problem.INCOMPLETE),
    row("057012345", C.INVALID, None, "navi-dial-one-short", problem=Problem.INCOMPLETE),
    # --- carrier identification codes (ACR/LCR) -------------------------------------------
    row("0033031234567", C.CARRIER_PREFIX, "0033031234567", "ntt-com-0033", carrier_code="0033"),
    row("0038031234567", C.CARRIER_PREFIX, "0038031234567", "fusion-0038", carrier_code="0038"),
    row("0077031234567", C.CARRIER_PREFIX, "0077031234567", "kddi-0077", carrier_code="0077"),
    row("0088031234567", C.CARRIER_PREFIX, "0088031234567", "japan-tel-0088", carrier_code="0088"),
    row("0041090123456", C.CARRIER_PREFIX, "0041090123456", "softbank-0041", carrier_code="0041"),
    row("001010121255501", C.CARRIER_PREFIX, "001010121255501", "kddi-001", carrier_code="001"),
    row("00212031234567", C.CARRIER_PREFIX, "00212031234567", "002yz", carrier_code="00212"),
    row("009121031234567", C.CARRIER_PREFIX, "009121031234567", "0091nn", carrier_code="009121"),
    row("0033", C.CARRIER_PREFIX, "0033", "carrier-code-alone", carrier_code="0033"),
    row(
        "18400330312345678",
        C.CARRIER_PREFIX,
        "00330312345678",
        "carrier-code-after-184",
        privacy=Privacy.WITHHOLD,
        carrier_code="0033",
    ),
    row("00", C.INVALID, None, "double-zero-alone", problem=Problem.INCOMPLETE),
    row("0001234567", C.INVALID, None, "triple-zero", problem=Problem.UNASSIGNED),
    # --- invalid ---------------------------------------------------------------------
    row("", C.INVALID, None, "empty", problem=Problem.EMPTY),
    row("   ", C.INVALID, None, "blank", problem=Problem.EMPTY),
    row("abc", C.INVALID, None, "letters", problem=Problem.NOT_DIGITS),
    row("031234567a", C.INVALID, None, "trailing-letter", problem=Problem.NOT_DIGITS),
    row("０３１２３４５６７８", C.INVALID, None, "full-width-digits", problem=Problem.NOT_DIGITS),
    row("*67", C.INVALID, None, "star-code", problem=Problem.NOT_DIGITS),
    row("#7119", C.INVALID, None, "hash-code", problem=Problem.NOT_DIGITS),
    row("03+12345678", C.INVALID, None, "plus-in-the-middle", problem=Problem.NOT_DIGITS),
    row("+", C.INVALID, None, "plus-alone", problem=Problem.INCOMPLETE),
    row("+81", C.INVALID, None, "plus-81-alone", problem=Problem.INCOMPLETE),
    row("0", C.INVALID, None, "zero-alone", problem=Problem.INCOMPLETE),
    row(
        "1840",
        C.INVALID,
        None,
        "184-then-zero",
        problem=Problem.INCOMPLETE,
        privacy=Privacy.WITHHOLD,
    ),
    row("12345678", C.INVALID, None, "starts-with-1-too-long", problem=Problem.TOO_LONG),
    row("23456789", C.INVALID, None, "local-8-digits", problem=Problem.LOCAL_DIALLING),
    row("5555", C.INVALID, None, "local-4-digits", problem=Problem.LOCAL_DIALLING),
    row("123", C.SPECIAL_3DIGIT, "123", "any-1xy-is-3-digit"),
    row("234", C.INVALID, None, "three-digits-not-1xy", problem=Problem.UNASSIGNED),
    row("234567890", C.INVALID, None, "nine-digits-no-zero", problem=Problem.UNASSIGNED),
    row("03012345678", C.INVALID, None, "030-unassigned", problem=Problem.UNASSIGNED),
    row("04012345678", C.INVALID, None, "040-unassigned", problem=Problem.UNASSIGNED),
    row("8131234567", C.INVALID, None, "81-too-short-for-e164", problem=Problem.UNASSIGNED),
]


@pytest.mark.parametrize(("dialled", "call_class", "number", "expect"), TABLE)
def test_a_dialled_string_gets_its_class_and_national_number(
    data: OperatorData,
    dialled: str,
    call_class: CallClass,
    number: str | None,
    expect: dict[str, Any],
) -> None:
    analysis = analyse(dialled, data.ranges)
    assert (analysis.call_class, analysis.number) == (call_class, number)
    assert analysis.privacy == expect.get("privacy")
    assert analysis.problem == expect.get("problem")
    if "country_code" in expect:
        assert analysis.country_code == expect["country_code"]
    if "carrier_code" in expect:
        assert analysis.carrier_code == expect["carrier_code"]


def test_the_table_covers_every_class_and_has_at_least_120_rows() -> None:
    assert len(TABLE) >= 120
    assert {p.values[1] for p in TABLE} == set(CallClass)


@pytest.mark.parametrize(
    ("dialled", "emergency"),
    [("110", True), ("118", True), ("119", True), ("184119", True), ("104", False)],
    ids=["110", "118", "119", "184-119", "104-is-not-emergency"],
)
def test_emergency_numbers_are_recognised(
    data: OperatorData, dialled: str, emergency: bool
) -> None:
    assert analyse(dialled, data.ranges).is_emergency is emergency


def test_a_range_entry_tells_who_holds_the_number(data: OperatorData) -> None:
    entry = analyse("07055123456", data.ranges).range_entry
    assert entry is not None
    assert entry.carrier == "astel_tokyo"
    assert entry.source.endswith("phs_blocks.csv:11")
