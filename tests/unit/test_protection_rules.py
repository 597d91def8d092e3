"""Protection rules (SPEC §2 提供中止, §7): thresholds, windows, spend cap, anomalies, blocks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from denwa.core.errors import OperatorDataError
from denwa.core.protection.anomaly import anomaly_threshold_seconds, is_anomalous
from denwa.core.protection.blocks import Block, BlockRule, BlockTarget, block_key
from denwa.core.protection.events import EventKind, ProtectionEvent
from denwa.core.protection.guards import (
    admits_another,
    auth_failures_block,
    incomplete_calls_block,
    maintenance_refusal,
    reaches,
    within_rate,
)
from denwa.core.protection.hold import puts_on_hold
from denwa.core.protection.policy import load_protection
from denwa.core.protection.refusals import Guard, parse_protection_refusals
from denwa.core.protection.rules import ProtectionRules, parse_protection_rules
from denwa.core.protection.spend import DaySpend, Reservation, call_cost, reserve, spent_today
from denwa.core.protection.state import Maintenance, ProtectionState, encode_state, parse_state
from denwa.core.protection.window import SlidingWindow

pytestmark = pytest.mark.unit

RULES = ProtectionRules()
POLICY = load_protection()


# --- the rules file ----------------------------------------------------------------------------


def rules_from(*lines: str) -> ProtectionRules:
    return parse_protection_rules("protection.csv", "\n".join(["setting,value", *lines]))


def test_the_shipped_rules_are_the_documented_defaults() -> None:
    assert POLICY.rules == ProtectionRules()
    assert set(POLICY.sources) == {"protection.csv", "protection_refusals.csv"}


def test_a_setting_left_out_keeps_its_default_and_one_given_replaces_it() -> None:
    rules = rules_from("incomplete_calls_limit,3", "new_contracts_international_barred,yes")
    assert rules.incomplete_calls_limit == 3
    assert rules.new_contracts_international_barred is True
    assert rules.auth_failures_limit == ProtectionRules().auth_failures_limit


def test_a_cap_of_zero_is_allowed_it_bars_by_spending() -> None:
    assert rules_from("international_daily_cap_yen,0").international_daily_cap_yen == 0


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("incomplete_calls_limt,3", "protection.csv:2: unknown setting 'incomplete_calls_limt'"),
        ("incomplete_calls_limit,three", "protection.csv:2: value must be a whole number"),
        ("incomplete_calls_limit,0", "protection.csv:2: value must be at least 1, not 0"),
        ("auth_block_seconds,-5", "protection.csv:2: value must be at least 1, not -5"),
        ("new_contracts_international_barred,true", "protection.csv:2: value must be yes or no"),
        (
            "international_min_call_seconds,20000",
            "international_min_call_seconds (20000) is longer than",
        ),
        ("auth_failures_window_seconds,7200", "auth_failures_window_seconds is at most 3600"),
    ],
    ids=[
        "misspelt",
        "not-a-number",
        "zero-limit",
        "negative-period",
        "not-a-flag",
        "min-over-max",
        "window-over-an-hour",
    ],
)
def test_a_bad_setting_is_refused_naming_the_line(line: str, problem: str) -> None:
    with pytest.raises(OperatorDataError) as refused:
        rules_from(line)
    assert problem in refused.value.message


def test_a_setting_given_twice_is_refused() -> None:
    with pytest.raises(OperatorDataError, match=r"csv:3: setting auth_block_seconds is"):
        rules_from("auth_block_seconds,60", "auth_block_seconds,70")


def test_the_operators_files_replace_the_shipped_ones_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "protection.csv").write_text("setting,value\nsubscriber_max_calls,4\n")
    policy = load_protection(tmp_path)
    assert policy.rules.subscriber_max_calls == 4
    assert policy.refusals == POLICY.refusals
    assert policy.key != POLICY.key


# --- refusals ------------------------------------------------------------------------------------

HEADER = "reason,sip_code,retry_after_seconds,reason_en,announcement_ja"


def refusal_rows(**changed: str) -> str:
    rows = {
        guard: f"{guard.value},503,30,Busy,混み合っております。"
        if guard is not Guard.INCOMPLETE_CALLS
        else f"{guard.value},403,,Stop,制限中です。"
        for guard in Guard
    }
    rows.update({Guard(k): v for k, v in changed.items()})
    return "\n".join([HEADER, *(row for row in rows.values() if row)])


def test_every_rule_has_its_wording_and_503s_their_retry_after() -> None:
    for guard in Guard:
        refusal = POLICY.refusals[guard]
        assert refusal.announcement_ja
        assert (refusal.retry_after_seconds is not None) == (refusal.sip_code == 503)


@pytest.mark.parametrize(
    ("changed", "problem"),
    [
        ({"maintenance": ""}, "no wording for maintenance"),
        ({"maintenance": "maintenance,503,,Down,保守中"}, "a 503 needs retry_after_seconds"),
        ({"maintenance": "maintenance,200,5,Down,保守中"}, "sip_code must be at least 400"),
        ({"maintenance": "maintenence,503,5,Down,保守中"}, "reason must be one of"),
    ],
    ids=["missing", "503-without-retry-after", "not-an-error-code", "unknown-reason"],
)
def test_a_bad_refusal_table_is_refused(changed: dict[str, str], problem: str) -> None:
    with pytest.raises(OperatorDataError, match=problem):
        parse_protection_refusals("protection_refusals.csv", refusal_rows(**changed))


def test_a_503_refusal_carries_retry_after_and_the_reason_headers_of_policy_refusals() -> None:
    headers = POLICY.refusals[Guard.OVERLOAD_CALLS].headers()
    assert headers[0].startswith('Reason: SIP;cause=503;text="')
    assert "X-Denwa-Refusal: overload_calls" in headers
    assert "Retry-After: 30" in headers
    assert not any(
        h.startswith("Retry-After") for h in POLICY.refusals[Guard.INCOMPLETE_CALLS].headers()
    )


def test_the_maintenance_switch_may_tell_its_own_message_and_retry_after() -> None:
    assert maintenance_refusal(Maintenance(on=False), POLICY.refusals) is None
    default = maintenance_refusal(Maintenance(on=True), POLICY.refusals)
    assert default == POLICY.refusals[Guard.MAINTENANCE]
    own = maintenance_refusal(Maintenance(True, "工事中です。", 3600), POLICY.refusals)
    assert own is not None
    assert (own.sip_code, own.announcement_ja, own.retry_after_seconds) == (
        503,
        "工事中です。",
        3600,
    )


# --- thresholds: at the threshold, not one call before --------------------------------------------


@pytest.mark.parametrize(
    ("in_progress", "limit", "admitted"),
    [(0, 2, True), (1, 2, True), (2, 2, False), (5, 2, False), (10_000, 0, True)],
    ids=["none", "one-before-the-limit", "at-the-limit", "over", "no-limit"],
)
def test_concurrent_calls_up_to_the_limit_go_through(
    in_progress: int, limit: int, admitted: bool
) -> None:
    assert admits_another(in_progress, limit) is admitted


@pytest.mark.parametrize(
    ("attempt", "limit", "admitted"),
    [(1, 2, True), (2, 2, True), (3, 2, False), (1_000_000, 0, True)],
    ids=["first", "the-limit-th", "one-more", "no-limit"],
)
def test_call_attempts_in_one_second_up_to_the_limit_go_through(
    attempt: int, limit: int, admitted: bool
) -> None:
    assert within_rate(attempt, limit) is admitted


@pytest.mark.parametrize(
    ("count", "limit", "blocks"),
    [(9, 10, False), (10, 10, True), (11, 10, True), (1, 1, True)],
    ids=["one-before", "at-the-limit", "after", "limit-of-one"],
)
def test_the_event_that_reaches_the_limit_starts_the_block(
    count: int, limit: int, blocks: bool
) -> None:
    assert reaches(count, limit) is blocks


def test_incomplete_calls_block_the_line_for_the_cooling_off_period() -> None:
    window = SlidingWindow(RULES.incomplete_calls_window_seconds)
    events: list[float] = []
    now = 1_700_000_000.0
    blocked_at = None
    for n in range(1, 12):
        events.append(now + n * 30)
        count = window.count(lambda b: sum(window.bucket(e) == b for e in events), events[-1])
        if blocked_at is None and reaches(count, RULES.incomplete_calls_limit):
            blocked_at = n
    assert blocked_at == RULES.incomplete_calls_limit
    block = incomplete_calls_block("05055500001", now, RULES)
    assert (block.key, block.guard) == ("line:05055500001", Guard.INCOMPLETE_CALLS)
    assert block.until == int(now) + RULES.incomplete_calls_block_seconds


# --- sliding windows ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "buckets", "bucket_seconds"),
    [(600, 20, 30), (300, 20, 15), (60, 20, 3), (4, 4, 1), (7, 7, 1), (1, 1, 1), (601, 1, 601)],
    ids=["10-minutes", "5-minutes", "1-minute", "4-s", "7-s", "1-s", "prime"],
)
def test_buckets_divide_the_window_exactly(seconds: int, buckets: int, bucket_seconds: int) -> None:
    window = SlidingWindow(seconds)
    assert (window.buckets, window.bucket_seconds) == (buckets, bucket_seconds)
    assert window.keep_seconds == seconds + bucket_seconds


def test_a_window_of_no_time_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 second"):
        SlidingWindow(0)


@given(
    seconds=st.integers(1, 900),
    ages=st.lists(st.floats(0, 2000, allow_nan=False), max_size=40),
    moment=st.floats(1e9, 2e9, allow_nan=False),
)
def test_an_event_counts_while_younger_than_the_window_and_not_a_bucket_later(
    seconds: int, ages: list[float], moment: float
) -> None:
    window = SlidingWindow(seconds)
    events = [moment - age for age in ages]
    counted = window.count(lambda b: sum(window.bucket(e) == b for e in events), moment)
    younger = sum(
        age < seconds for age in ages if window.bucket(moment - age) <= window.bucket(moment)
    )
    not_yet_forgotten = sum(age < seconds + window.bucket_seconds for age in ages)
    assert younger <= counted <= not_yet_forgotten


# --- the international spending cap ---------------------------------------------------------------

US = (60, 9)  # unit seconds, yen per unit (international.csv: North America)
AFRICA = (60, 250)


@pytest.mark.parametrize(
    ("spend", "tariff", "expected"),
    [
        (DaySpend(5000, 0), US, Reservation(14400, 2160)),
        (DaySpend(5000, 2000, 2160), US, Reservation(5580, 837)),
        (DaySpend(5000, 0), AFRICA, Reservation(1200, 5000)),
        (DaySpend(5000, 4750), AFRICA, Reservation(60, 250)),
        (DaySpend(5000, 4751), AFRICA, None),
        (DaySpend(5000, 2000, 2760), AFRICA, None),
        (DaySpend(0, 0), US, None),
        (DaySpend(0, 0), (60, 0), Reservation(14400, 0)),
    ],
    ids=[
        "fresh-day-reserves-the-longest-call",
        "what-is-left-after-spend-and-calls-in-progress",
        "expensive-destination-reserves-what-the-cap-buys",
        "exactly-a-minimal-call-left",
        "one-yen-short-of-a-minimal-call",
        "calls-in-progress-hold-the-rest",
        "cap-of-zero",
        "free-destination",
    ],
)
def test_a_new_international_call_reserves_its_worst_case_within_the_cap(
    spend: DaySpend, tariff: tuple[int, int], expected: Reservation | None
) -> None:
    assert reserve(spend, *tariff, RULES) == expected


@given(
    cap=st.integers(0, 50_000),
    spent=st.integers(0, 50_000),
    reserved=st.integers(0, 50_000),
    unit=st.sampled_from([1, 6, 30, 60, 180]),
    yen=st.integers(0, 500),
    lasted=st.integers(0, 20_000),
)
def test_no_admitted_call_can_take_the_day_over_the_cap(
    cap: int, spent: int, reserved: int, unit: int, yen: int, lasted: int
) -> None:
    spend = DaySpend(cap, spent, reserved)
    reservation = reserve(spend, unit, yen, RULES)
    if reservation is None:
        return
    assert reservation.seconds >= RULES.international_min_call_seconds
    ended_by_timeout = min(lasted, reservation.timeout_seconds + 1)  # the timer's jitter < 1 s
    cost = call_cost(ended_by_timeout, unit, yen)
    assert cost <= reservation.yen
    if spent + reserved <= cap:
        assert spent + reserved + cost <= cap


def test_the_larger_of_the_published_and_the_nodes_spend_counts() -> None:
    assert spent_today(1200, 900) == 1200
    assert spent_today(1200, 1500) == 1500


# --- international anomalies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "threshold"),
    [([], 3600), ([600] * 28, 3600), ([3600] * 28, 18000), ([28 * 3600], 18000), ([100], 3600)],
    ids=["no-history", "small-history-the-floor", "hour-a-day", "one-long-day", "one-short-call"],
)
def test_the_threshold_is_the_factor_times_the_daily_mean_and_at_least_the_floor(
    history: list[int], threshold: int
) -> None:
    assert anomaly_threshold_seconds(history, RULES) == threshold


@pytest.mark.parametrize(
    ("today", "anomalous"),
    [(18000, False), (18001, True)],
    ids=["at-the-threshold", "one-second-above"],
)
def test_a_day_far_above_the_own_history_is_an_anomaly(today: int, anomalous: bool) -> None:
    assert is_anomalous(today, [3600] * 28, RULES) is anomalous


def test_more_days_of_history_than_the_rule_looks_at_are_refused() -> None:
    with pytest.raises(ValueError, match="29 days of history"):
        anomaly_threshold_seconds([60] * 29, RULES)


# --- blocks, events, the snapshot -----------------------------------------------------------------


def test_a_block_is_an_item_whose_value_says_why_and_until_when() -> None:
    block = auth_failures_block("192.0.2.7", 1_700_000_000.4, RULES)
    assert (block.key, block.value) == ("source:192.0.2.7", "auth_failures|1700003600")
    assert Block.parse(block.key, block.value) == block
    assert block.guard is Guard.SOURCE_BLOCKED
    assert block.seconds_left(1_700_003_000) == 600
    assert block.seconds_left(1_800_000_000) == 0
    flood = Block(BlockTarget.SOURCE, "192.0.2.8", BlockRule.FLOOD, 1)
    assert flood.guard is None  # dropped without an answer
    assert block_key(BlockTarget.LINE, "05055500001") == "line:05055500001"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ip:1.2.3.4", "auth_failures|1"),
        ("line:0505", "bored|1"),
        ("line:0505", "incomplete_calls"),
    ],
    ids=["unknown-target", "unknown-rule", "no-time"],
)
def test_an_item_that_is_not_a_block_is_not_taken_for_one(key: str, value: str) -> None:
    assert Block.parse(key, value) is None


def test_an_event_goes_through_the_spool_unchanged() -> None:
    event = ProtectionEvent(
        EventKind.BLOCKED,
        datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC),
        number="05055500001",
        rule="incomplete_calls",
        count=10,
        until=datetime(2026, 11, 2, 3, 34, 5, tzinfo=UTC),
    )
    assert ProtectionEvent.parse(event.record()) == event
    assert "source" not in event.record()


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ([], "an event is a JSON object"),
        ({"event": "party", "at": "2026-11-02T00:00:00+00:00"}, "unknown event 'party'"),
        ({"event": "held"}, "at must be an ISO 8601 time"),
        ({"event": "held", "at": "2026-11-02T00:00:00"}, "at has no UTC offset"),
        ({"event": "held", "at": "2026-11-02T00:00:00Z", "count": -1}, "count must be"),
        ({"event": "held", "at": "2026-11-02T00:00:00Z", "number": 5}, "number must be text"),
    ],
    ids=["not-an-object", "unknown-kind", "no-time", "naive-time", "negative-count", "number"],
)
def test_a_malformed_event_is_refused_naming_the_problem(record: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ProtectionEvent.parse(record)


def test_the_snapshot_gives_the_cap_and_only_todays_spend() -> None:
    state = ProtectionState(
        maintenance=Maintenance(True, "工事中", 60),
        day=date(2026, 11, 2),
        default_cap_yen=5000,
        caps={"05055500002": 1000},
        spent={"05055500001": 700, "05055500002": 100},
        version=3,
        data_dir="/srv/data",
        policy_key="k",
    )
    assert parse_state(encode_state(state)) == state
    assert state.cap_of("05055500001") == 5000
    assert state.cap_of("05055500002") == 1000
    assert state.spent_on("05055500001", date(2026, 11, 2)) == 700
    assert state.spent_on("05055500001", date(2026, 11, 3)) == 0
    assert state.day_spend("05055500002", date(2026, 11, 2), 300, 50) == DaySpend(1000, 100, 300)


def test_a_snapshot_of_another_format_is_refused() -> None:
    document = encode_state(ProtectionState())
    with pytest.raises(ValueError, match="format 2 is not 1"):
        parse_state({**document, "format": 2})


# --- holding the line -----------------------------------------------------------------------------

SDP = "v=0\r\no=ta 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
AUDIO = "m=audio 4000 RTP/AVP 0\r\n"


@pytest.mark.parametrize(
    ("sdp", "held"),
    [
        (SDP + AUDIO, False),
        (SDP + AUDIO + "a=sendrecv\r\n", False),
        (SDP + AUDIO + "a=sendonly\r\n", True),
        (SDP + AUDIO + "a=inactive\r\n", True),
        (SDP + AUDIO + "a=recvonly\r\n", False),
        (SDP + "a=sendonly\r\n" + AUDIO, True),
        (SDP + "a=sendonly\r\n" + AUDIO + "a=sendrecv\r\n", False),
        (SDP.replace("192.0.2.1\r\nt", "0.0.0.0\r\nt") + AUDIO, True),
        (SDP + AUDIO + "c=IN IP4 0.0.0.0\r\n", True),
        (SDP + AUDIO + "a=sendonly\r\n" + "m=video 4002 RTP/AVP 31\r\n", False),
        (SDP, None),
        ("", None),
    ],
    ids=[
        "plain-offer",
        "sendrecv",
        "sendonly",
        "inactive",
        "recvonly-is-the-held-side",
        "session-level-sendonly",
        "media-overrides-session",
        "rfc2543-session-address",
        "rfc2543-media-address",
        "one-stream-of-two",
        "no-media",
        "no-sdp",
    ],
)
def test_a_reinvite_holds_the_call_when_every_stream_is_sendonly_or_inactive(
    sdp: str, held: bool | None
) -> None:
    assert puts_on_hold(sdp) is held
