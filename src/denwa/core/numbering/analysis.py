"""Number analysis: any dialled string to exactly one call class (SPEC §1).

The analysis is a short pipeline of named steps: strip visual separators,
take off a 184/186 privacy prefix, turn E.164 forms into national form, then
dispatch on the leading digits to the three-digit, carrier-code,
international or national rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from denwa.core.numbering import plan
from denwa.core.numbering.classes import CallClass, Privacy, Problem
from denwa.core.numbering.country_codes import COUNTRY_CODES, split_country_code
from denwa.core.numbering.ranges import RangeEntry, RangeTable

_DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class NumberAnalysis:
    """What a dialled string is.

    ``number`` is the normalised national form (``010``+country code+number for
    international calls), or None when the string is not a number at all.
    """

    dialled: str
    call_class: CallClass
    number: str | None
    privacy: Privacy | None = None
    problem: Problem | None = None
    range_entry: RangeEntry | None = None
    country_code: str | None = None
    carrier_code: str | None = None

    @property
    def is_emergency(self) -> bool:
        """True for 110, 118 and 119."""
        return self.number in plan.EMERGENCY_NUMBERS


def analyse(dialled: str, ranges: RangeTable) -> NumberAnalysis:
    """Classify ``dialled`` into exactly one call class, with its national form.

    Never raises for any string: what is not a number is class ``invalid`` with
    a ``problem`` saying why.
    """
    digits = _strip_visual_separators(dialled)
    privacy, digits = _split_privacy_prefix(digits)

    def invalid(problem: Problem) -> NumberAnalysis:
        return NumberAnalysis(dialled, CallClass.INVALID, None, privacy, problem)

    if not digits:
        return invalid(Problem.EMPTY)
    national = _to_national_form(digits)
    if national is None:
        return invalid(Problem.NOT_DIGITS)
    if not national:
        return invalid(Problem.INCOMPLETE)

    if national.startswith("1"):
        result = _analyse_three_digit(national)
    elif national.startswith(plan.INTERNATIONAL_PREFIX):
        result = _analyse_international(national, ranges)
    elif national.startswith("00"):
        result = _analyse_carrier_prefix(national)
    elif national.startswith("0"):
        result = _analyse_national(national, ranges)
    elif len(national) in plan.LOCAL_NUMBER_LENGTHS:
        result = _Result(CallClass.INVALID, problem=Problem.LOCAL_DIALLING)
    else:
        result = _Result(CallClass.INVALID, problem=Problem.UNASSIGNED)

    return NumberAnalysis(
        dialled=dialled,
        call_class=result.call_class,
        number=result.number,
        privacy=privacy,
        problem=result.problem,
        range_entry=result.range_entry,
        country_code=result.country_code,
        carrier_code=result.carrier_code,
    )


@dataclass(frozen=True)
class _Result:
    call_class: CallClass
    number: str | None = None
    problem: Problem | None = None
    range_entry: RangeEntry | None = None
    country_code: str | None = None
    carrier_code: str | None = None


def _strip_visual_separators(dialled: str) -> str:
    return "".join(ch for ch in dialled.strip() if ch not in plan.VISUAL_SEPARATORS)


def _split_privacy_prefix(digits: str) -> tuple[Privacy | None, str]:
    head, rest = digits[:3], digits[3:]
    if head in plan.PRIVACY_PREFIXES and rest:
        return Privacy(plan.PRIVACY_PREFIXES[head]), rest
    return None, digits


def _to_national_form(digits: str) -> str | None:
    """``+81…``/``81…`` to ``0…``, ``+<cc>…`` to ``010<cc>…``; None if not digits."""
    plus = digits.startswith("+")
    body = digits[1:] if plus else digits
    if not set(body) <= _DIGITS:
        return None
    if plus:
        if body.startswith(plan.JAPAN_COUNTRY_CODE):
            return "0" + body[len(plan.JAPAN_COUNTRY_CODE) :]
        return plan.INTERNATIONAL_PREFIX + body if body else ""
    # Without "+", 81… is E.164 only when long enough to be a full national
    # number; a shorter string is a local number dialled without area code.
    if body.startswith(plan.JAPAN_COUNTRY_CODE) and len(body) >= 11:
        return "0" + body[len(plan.JAPAN_COUNTRY_CODE) :]
    return body


def _analyse_three_digit(national: str) -> _Result:
    if len(national) < 3:
        return _Result(CallClass.INVALID, problem=Problem.INCOMPLETE)
    if len(national) > 3:
        return _Result(CallClass.INVALID, problem=Problem.TOO_LONG)
    return _Result(CallClass.SPECIAL_3DIGIT, number=national)


def _analyse_carrier_prefix(national: str) -> _Result:
    if len(national) == 2:
        return _Result(CallClass.INVALID, problem=Problem.INCOMPLETE)
    if national[2] == "0":
        return _Result(CallClass.INVALID, problem=Problem.UNASSIGNED)
    return _Result(
        CallClass.CARRIER_PREFIX,
        number=national,
        carrier_code=plan.carrier_code_of(national),
    )


def _analyse_international(national: str, ranges: RangeTable) -> _Result:
    rest = national[len(plan.INTERNATIONAL_PREFIX) :]
    split = split_country_code(rest)
    if split is None:
        could_still_be_a_code = any(code.startswith(rest) for code in COUNTRY_CODES)
        problem = Problem.INCOMPLETE if could_still_be_a_code else Problem.UNKNOWN_COUNTRY
        return _Result(CallClass.INVALID, problem=problem)
    country_code, nsn = split
    if country_code == plan.JAPAN_COUNTRY_CODE:
        return _analyse_national("0" + nsn, ranges)
    if len(nsn) < plan.INTERNATIONAL_MIN_NSN:
        return _Result(CallClass.INVALID, problem=Problem.INCOMPLETE)
    if len(country_code) + len(nsn) > plan.E164_MAX_DIGITS:
        return _Result(CallClass.INVALID, problem=Problem.TOO_LONG)
    return _Result(CallClass.INTERNATIONAL, number=national, country_code=country_code)


def _analyse_national(national: str, ranges: RangeTable) -> _Result:
    row = plan.plan_row(national)
    if row is None or row.kind is plan.Kind.UNASSIGNED:
        return _Result(CallClass.INVALID, problem=Problem.UNASSIGNED)
    length_problem = _length_problem(len(national), row.lengths)
    if length_problem is not None:
        return _Result(CallClass.INVALID, problem=length_problem)
    rule = plan.KIND_RULES[row.kind]
    entry = ranges.longest_match(national) if rule.operator_may_set else None
    if entry is not None and entry.call_class in rule.operator_may_set:
        return _Result(entry.call_class, number=national, range_entry=entry)
    return _Result(rule.default, number=national)


def _length_problem(length: int, allowed: tuple[int, ...]) -> Problem | None:
    if length in allowed:
        return None
    if any(length < allowed_length for allowed_length in allowed):
        return Problem.INCOMPLETE
    return Problem.TOO_LONG
