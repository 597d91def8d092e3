"""The call policy: admit or refuse every call attempt, with code, reason and announcement."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from denwa.core.contracts.lifecycle import State
from denwa.core.numbering import CallClass, Direction, Privacy
from denwa.core.operator_data.bundle import OperatorData
from denwa.core.policy.decision import (
    Admit,
    CallRequest,
    Decision,
    Refuse,
    Route,
    Subscriber,
    decide,
)
from denwa.core.policy.phs import InboundRule
from denwa.core.policy.refusals import RefusalReason as R
from denwa.core.rating.tariffs import TariffBook

pytestmark = pytest.mark.unit

ON = date(2003, 9, 1)
ALICE = Subscriber("05055500001", State.ACTIVE)
BOB = Subscriber("05055500002", State.ACTIVE)


class Directory:
    """An in-memory subscriber directory, as the call path's snapshot is."""

    def __init__(self, *subscribers: Subscriber) -> None:
        self.by_number = {s.number: s for s in subscribers}

    def find(self, number: str) -> Subscriber | None:
        return self.by_number.get(number)


def call(
    data: OperatorData,
    dialled: str,
    caller: Subscriber = ALICE,
    directory: Directory | None = None,
) -> Decision:
    request = CallRequest(Direction.OUT, dialled, ON, caller=caller)
    return decide(request, data, directory or Directory(ALICE, BOB))


def incoming(
    data: OperatorData,
    remote: str | None,
    to: str = ALICE.number,
    directory: Directory | None = None,
    services: frozenset[str] = frozenset(),
) -> Decision:
    request = CallRequest(Direction.IN, to, ON, remote_number=remote, caller_services=services)
    return decide(request, data, directory or Directory(ALICE, BOB))


def refused(decision: Decision) -> Refuse:
    assert isinstance(decision, Refuse), decision
    return decision


def admitted(decision: Decision) -> Admit:
    assert isinstance(decision, Admit), decision
    return decision


@pytest.mark.parametrize(
    ("dialled", "reason", "sip_code"),
    [
        ("110", R.EMERGENCY, 403),
        ("118", R.EMERGENCY, 403),
        ("119", R.EMERGENCY, 403),
        ("184119", R.EMERGENCY, 403),
        ("104", R.SPECIAL_3DIGIT, 403),
        ("177", R.SPECIAL_3DIGIT, 403),
        ("0120123456", R.NON_GEOGRAPHIC, 403),
        ("0570123456", R.NON_GEOGRAPHIC, 403),
        ("08001234567", R.NON_GEOGRAPHIC, 403),
        ("0033031234567", R.CARRIER_PREFIX, 403),
        ("0077031234567", R.CARRIER_PREFIX, 403),
        ("001010121255501", R.CARRIER_PREFIX, 403),
        ("05099901234", R.NO_AGREEMENT, 403),
        ("07001234567", R.NO_AGREEMENT, 403),
        ("", R.EMPTY, 484),
        ("031234567", R.INCOMPLETE, 484),
        ("03123456789", R.TOO_LONG, 404),
        ("23456789", R.LOCAL_DIALLING, 484),
        ("abc", R.NOT_DIGITS, 404),
        ("03012345678", R.UNASSIGNED, 404),
        ("0109991234567", R.UNKNOWN_COUNTRY, 404),
    ],
    ids=lambda v: v if isinstance(v, str) and v else None,
)
def test_numbers_outside_the_service_are_refused_with_code_and_announcement(
    data: OperatorData, dialled: str, reason: R, sip_code: int
) -> None:
    decision = refused(call(data, dialled))
    assert decision.reason is reason
    assert decision.sip_code == sip_code
    assert decision.text.reason_en
    assert decision.text.announcement_ja


def test_an_emergency_call_is_told_to_use_a_fixed_line(data: OperatorData) -> None:
    decision = refused(call(data, "119"))
    assert (
        decision.text.announcement_ja
        == "緊急通話はご利用になれません。一般加入電話からおかけください。"
    )
    assert decision.call_class is CallClass.SPECIAL_3DIGIT


def test_a_carrier_prefix_tells_the_user_to_switch_acr_off(data: OperatorData) -> None:
    decision = refused(call(data, "0033031234567"))
    assert "ACR" in decision.text.announcement_ja
    assert "ACR/LCR" in decision.text.reason_en


@pytest.mark.parametrize(
    ("dialled", "call_class", "unit_seconds", "yen"),
    [
        ("05055510001", CallClass.IP_PARTNER_FREE, 180, 0),
        ("05055530001", CallClass.IP_PARTNER_PAID, 180, 8),
        ("05033001234", CallClass.IP_OTHER, 180, 8),
        ("0312345678", CallClass.DOMESTIC_FIXED, 180, 8),
        ("09012345678", CallClass.MOBILE, 60, 20),
        ("07053123456", CallClass.PHS, 60, 10),
        ("01012125550123", CallClass.INTERNATIONAL, 60, 9),
        ("010442071234567", CallClass.INTERNATIONAL, 60, 20),
    ],
    ids=["partner-free", "partner-paid", "ip-other", "fixed", "mobile", "phs", "usa", "uk"],
)
def test_calls_off_net_go_to_the_interconnect_with_their_tariff(
    data: OperatorData, dialled: str, call_class: CallClass, unit_seconds: int, yen: int
) -> None:
    decision = admitted(call(data, dialled))
    assert decision.call_class is call_class
    assert decision.route is Route.INTERCONNECT
    assert decision.tariff is not None
    assert (decision.tariff.unit_seconds, decision.tariff.yen_per_unit) == (unit_seconds, yen)


def test_an_on_net_call_goes_to_the_subscriber_free(data: OperatorData) -> None:
    decision = admitted(call(data, "05055500002"))
    assert decision.route is Route.SUBSCRIBER
    assert decision.call_class is CallClass.ONNET
    assert decision.tariff is not None
    assert decision.tariff.is_free


def test_184_withholds_and_186_presents_the_caller_id(data: OperatorData) -> None:
    assert admitted(call(data, "1840312345678")).privacy is Privacy.WITHHOLD
    assert admitted(call(data, "1860312345678")).privacy is Privacy.PRESENT
    assert admitted(call(data, "0312345678")).privacy is None


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (State.APPLIED, R.CALLER_NOT_ACTIVE),
        (State.SUSPENDED, R.CALLER_SUSPENDED),
        (State.STOPPED, R.CALLER_STOPPED),
        (State.TERMINATED, R.CALLER_TERMINATED),
    ],
    ids=lambda v: getattr(v, "value", None),
)
def test_only_an_active_subscriber_may_call(data: OperatorData, state: State, reason: R) -> None:
    caller = dataclasses.replace(ALICE, state=state)
    decision = refused(call(data, "0312345678", caller=caller))
    assert (decision.reason, decision.sip_code) == (reason, 403)


def test_a_caller_check_comes_before_the_number_so_a_stopped_line_cannot_probe(
    data: OperatorData,
) -> None:
    caller = dataclasses.replace(ALICE, state=State.STOPPED)
    assert refused(call(data, "110", caller=caller)).reason is R.CALLER_STOPPED


def test_international_barring_refuses_international_calls_only(data: OperatorData) -> None:
    barred = dataclasses.replace(ALICE, international_barred=True)
    decision = refused(call(data, "01012125550123", caller=barred))
    assert (decision.reason, decision.sip_code) == (R.INTERNATIONAL_BARRED, 403)
    assert admitted(call(data, "0312345678", caller=barred)).call_class is CallClass.DOMESTIC_FIXED
    assert admitted(call(data, "01012125550123")).call_class is CallClass.INTERNATIONAL


def test_a_destination_without_an_international_rate_is_refused(data: OperatorData) -> None:
    no_international = dataclasses.replace(
        data, tariffs=TariffBook(by_class=data.tariffs.by_class, international={})
    )
    assert refused(call(no_international, "01012125550123")).reason is R.NO_TARIFF


@pytest.mark.parametrize(
    ("state", "reason", "sip_code"),
    [
        (State.APPLIED, R.CALLEE_NOT_ACTIVE, 404),
        (State.SUSPENDED, R.CALLEE_SUSPENDED, 480),
        (State.STOPPED, R.CALLEE_STOPPED, 480),
        (State.TERMINATED, R.CALLEE_TERMINATED, 404),
    ],
    ids=lambda v: getattr(v, "value", None),
)
def test_only_an_active_subscriber_may_be_called(
    data: OperatorData, state: State, reason: R, sip_code: int
) -> None:
    directory = Directory(ALICE, dataclasses.replace(BOB, state=state))
    on_net = refused(call(data, BOB.number, directory=directory))
    from_outside = refused(incoming(data, "0312345678", to=BOB.number, directory=directory))
    assert (on_net.reason, on_net.sip_code) == (reason, sip_code)
    assert (from_outside.reason, from_outside.sip_code) == (reason, sip_code)


def test_an_unknown_number_in_our_block_is_not_found(data: OperatorData) -> None:
    assert refused(call(data, "05055509999")).sip_code == 404
    assert refused(incoming(data, "0312345678", to="05055509999")).reason is R.CALLEE_UNKNOWN


def test_an_inbound_call_to_a_number_not_ours_is_refused(data: OperatorData) -> None:
    decision = refused(incoming(data, "0312345678", to="05033001234"))
    assert (decision.reason, decision.sip_code) == (R.NOT_OUR_NUMBER, 404)


@pytest.mark.parametrize(
    "remote",
    ["0312345678", "+81312345678", "09012345678", "05033001234", "05055500002", "+12125550123"],
    ids=["fixed", "fixed-e164", "mobile", "ip-other", "onnet", "from-abroad"],
)
def test_inbound_calls_reach_our_subscriber(data: OperatorData, remote: str) -> None:
    decision = admitted(incoming(data, remote))
    assert decision.route is Route.SUBSCRIBER
    assert decision.tariff is None


def test_a_withheld_caller_id_is_admitted_inbound(data: OperatorData) -> None:
    decision = admitted(incoming(data, None))
    assert decision.call_class is None
    assert decision.route is Route.SUBSCRIBER


@pytest.mark.parametrize(
    ("remote", "reason"),
    [
        ("garbage", R.CALLER_ID_INVALID),
        ("110", R.EMERGENCY),
        ("0120123456", R.NON_GEOGRAPHIC),
        ("05099901234", R.NO_AGREEMENT),
    ],
    ids=["invalid-caller-id", "3-digit", "non-geographic", "no-agreement"],
)
def test_inbound_calls_from_outside_the_service_are_refused(
    data: OperatorData, remote: str, reason: R
) -> None:
    assert refused(incoming(data, remote)).reason is reason


@pytest.mark.parametrize(
    ("number", "carrier"),
    [
        ("07050123456", "ddi-pocket"),
        ("07053123456", "docomo-phs"),
        ("07055123456", "astel-tokyo"),
        ("07056123456", "astel-other"),
    ],
    ids=["ddi-pocket", "docomo-phs", "astel-tokyo", "astel-other"],
)
def test_every_phs_carrier_may_be_called_from_us(
    data: OperatorData, number: str, carrier: str
) -> None:
    assert admitted(call(data, number)).call_class is CallClass.PHS


@pytest.mark.parametrize(
    ("remote", "services", "admit"),
    [
        ("07050123456", frozenset(), True),
        ("07053123456", frozenset(), True),
        ("07056123456", frozenset(), False),
        ("07056123456", frozenset({"zenkoku_call"}), False),
        ("07055123456", frozenset(), False),
        ("07055123456", frozenset({"zenkoku_call"}), True),
        ("07055912345", frozenset(), True),
    ],
    ids=[
        "ddi-pocket-may-call-us",
        "docomo-phs-may-call-us",
        "astel-other-may-not-call-us",
        "astel-other-even-claiming-the-service",
        "astel-tokyo-without-zenkoku-call-is-refused",
        "astel-tokyo-with-zenkoku-call-from-interconnect",
        "astel-tokyo-listed-as-zenkoku-call-subscriber",
    ],
)
def test_phs_callers_reach_us_only_as_their_carrier_allows(
    data: OperatorData, remote: str, services: frozenset[str], admit: bool
) -> None:
    decision = incoming(data, remote, services=services)
    assert decision.admitted is admit
    if not admit:
        assert refused(decision).reason is R.PHS_INBOUND
        assert refused(decision).sip_code == 403


def test_a_phs_carrier_closed_outbound_is_refused(data: OperatorData) -> None:
    closed = {
        key: dataclasses.replace(carrier, outbound=key != "docomo_phs")
        for key, carrier in data.phs_carriers.items()
    }
    no_docomo = dataclasses.replace(data, phs_carriers=closed)
    assert refused(call(no_docomo, "07053123456")).reason is R.PHS_OUTBOUND
    assert admitted(call(no_docomo, "07050123456")).call_class is CallClass.PHS


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("yes", InboundRule(True)),
        ("no", InboundRule(False)),
        ("service:zenkoku_call", InboundRule(True, "zenkoku_call")),
    ],
    ids=["yes", "no", "service"],
)
def test_an_inbound_rule_is_read_from_its_text(text: str, rule: InboundRule) -> None:
    assert InboundRule.parse(text) == rule


@pytest.mark.parametrize("text", ["", "maybe", "service:"], ids=["empty", "maybe", "no-service"])
def test_an_unreadable_inbound_rule_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="inbound must be"):
        InboundRule.parse(text)


def test_the_tariff_is_the_one_in_force_on_the_call_date(data: OperatorData) -> None:
    decision = admitted(call(data, "0312345678"))
    assert decision.tariff is not None
    assert decision.tariff.valid_from <= ON
    before_any_tariff = CallRequest(Direction.OUT, "0312345678", date(2002, 1, 1), caller=ALICE)
    assert refused(decide(before_any_tariff, data)).reason is R.NO_TARIFF
