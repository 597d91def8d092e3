"""Web credentials: issuing a password, signing in with lock-outs, changing the password.

- The operator issues the first password (console action or ``denwa portal
  password``); the subscriber must change it at the first sign-in.
- ``max_failures`` wrong passwords in a row lock the number for
  ``lockout_minutes`` (even the right password is refused meanwhile); a number
  with no web sign-in answers exactly like a wrong password and locks the same
  way, so the page does not tell which numbers have one.
- ``source_max_failures`` failures from one address within
  ``source_window_minutes`` refuse that address for the rest of the window.
- Every attempt is recorded (``SignInAttempt``); the record is written even
  when the sign-in is refused.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from denwa.portal.conf import PortalSettings, portal_settings
from denwa.portal.errors import (
    NoWebAccount,
    NumberLocked,
    PasswordRejected,
    SignInFailed,
    SourceThrottled,
)
from denwa.portal.models import SignInAttempt, WebAccount
from denwa.subscribers.services import find_contract

PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Issued passwords avoid look-alikes (0/O, 1/l/I): they are read off a letter or a phone call."""
ISSUED_LENGTH = 10
SEPARATORS = str.maketrans("", "", " -‐‑–—−ー()")
"""What people type between digits of a phone number (after NFKC, full-width is ASCII)."""
Outcome = SignInAttempt.Outcome
FAILURES = (Outcome.WRONG_PASSWORD, Outcome.UNKNOWN_NUMBER)


@dataclass(frozen=True)
class IssuedPassword:
    """A password the operator hands to the subscriber (shown once, kept only hashed)."""

    number: str
    password: str
    must_change: bool


def normalise_number(typed: str) -> str:
    """The 050 number as stored: full-width digits made ASCII, separators dropped."""
    return unicodedata.normalize("NFKC", typed).translate(SEPARATORS).strip()[:32]


@transaction.atomic
def issue_password(
    number: str,
    actor: str,
    password: str | None = None,
    *,
    must_change: bool = True,
    now: datetime | None = None,
) -> IssuedPassword:
    """Give ``number`` a new web password (random unless given); it also lifts a lock."""
    contract = find_contract(number, for_update=True)
    chosen = password or "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(ISSUED_LENGTH))
    if password is not None:
        _validate_new(password, number)
    WebAccount.objects.update_or_create(
        contract=contract,
        defaults={
            "password": make_password(chosen),
            "must_change": must_change,
            "password_set_at": now or timezone.now(),
            "password_set_by": actor,
            "failed_attempts": 0,
            "locked_until": None,
        },
    )
    return IssuedPassword(contract.number, chosen, must_change)


def unlock(number: str, actor: str) -> WebAccount:
    """Lift a lock-out before it ends (the operator, after checking who is calling)."""
    account = WebAccount.objects.filter(contract__number=number).first()
    if account is None:
        raise NoWebAccount(number)
    account.failed_attempts = 0
    account.locked_until = None
    account.save(update_fields=["failed_attempts", "locked_until"])
    return account


def sign_in(
    typed_number: str, password: str, source: str, now: datetime | None = None
) -> WebAccount:
    """The web account of ``typed_number`` if ``password`` is its password.

    Raises ``SignInFailed``, ``NumberLocked`` or ``SourceThrottled``; the
    attempt is recorded whatever the outcome.
    """
    now = now or timezone.now()
    rules = portal_settings()
    number = normalise_number(typed_number)
    with transaction.atomic():
        outcome, account, until = _attempt(number, password, source, now, rules)
        SignInAttempt.objects.create(number=number, source=source, outcome=outcome, at=now)
    if outcome == Outcome.SIGNED_IN and account is not None:
        return account
    if outcome == Outcome.THROTTLED and until is not None:
        raise SourceThrottled(source, until)
    if until is not None:
        raise NumberLocked(until)
    raise SignInFailed()


def _attempt(
    number: str, password: str, source: str, now: datetime, rules: PortalSettings
) -> tuple[str, WebAccount | None, datetime | None]:
    """(outcome, account, locked or throttled until) of one attempt; updates the account."""
    window = timedelta(minutes=rules.source_window_minutes)
    throttle = _nth_latest_failure(
        SignInAttempt.objects.filter(source=source), now - window, rules.source_max_failures
    )
    if throttle is not None:
        return Outcome.THROTTLED, None, throttle + window
    account = (
        WebAccount.objects.select_for_update()
        .select_related("contract")
        .filter(contract__number=number)
        .first()
    )
    lockout = timedelta(minutes=rules.lockout_minutes)
    if account is None:
        check_password(password, _DUMMY_HASH.get())  # as long as a real check takes
        since = now - lockout
        failures = SignInAttempt.objects.filter(number=number)
        locked = _nth_latest_failure(failures, since, rules.max_failures)
        if locked is not None:
            return Outcome.LOCKED, None, locked + lockout
        recent = failures.filter(at__gt=since, outcome__in=FAILURES).count() + 1
        return Outcome.UNKNOWN_NUMBER, None, now + lockout if recent >= rules.max_failures else None
    if account.locked_until is not None and account.locked_until > now:
        return Outcome.LOCKED, account, account.locked_until
    if account.locked_until is not None:  # the lock has run out: a fresh count
        account.failed_attempts, account.locked_until = 0, None

    def rehash(raw: str) -> None:  # the hasher in force changed: keep the stronger hash
        account.password = make_password(raw)

    if check_password(password, account.password, setter=rehash):
        account.failed_attempts = 0
        account.last_sign_in = now
        account.save(update_fields=["password", "failed_attempts", "locked_until", "last_sign_in"])
        return Outcome.SIGNED_IN, account, None
    account.failed_attempts += 1
    if account.failed_attempts >= rules.max_failures:
        account.locked_until = now + lockout
    account.save(update_fields=["failed_attempts", "locked_until"])
    return Outcome.WRONG_PASSWORD, account, account.locked_until


def _nth_latest_failure(
    attempts: QuerySet[SignInAttempt], since: datetime, n: int
) -> datetime | None:
    """The time of the ``n``-th latest failure after ``since``, if there are ``n`` of them."""
    found = list(
        attempts.filter(at__gt=since, outcome__in=FAILURES)
        .order_by("-at")
        .values_list("at", flat=True)[n - 1 : n]
    )
    return found[0] if found else None


class _DummyHash:
    """A hash of nothing, made once with the hasher in force (for equal-time refusals)."""

    value: str | None = None

    def get(self) -> str:
        if self.value is None:
            self.value = make_password(secrets.token_urlsafe(16))
        return self.value


_DUMMY_HASH = _DummyHash()


@transaction.atomic
def change_password(
    account_id: int, current: str, new: str, again: str, now: datetime | None = None
) -> WebAccount:
    """The subscriber replaces their password (the current one is asked again)."""
    account = WebAccount.objects.select_for_update().select_related("contract").get(pk=account_id)
    if not check_password(current, account.password):
        raise PasswordRejected([_("The current password is wrong.")])
    if new != again:
        raise PasswordRejected([_("The two new passwords differ.")])
    if new == current:
        raise PasswordRejected([_("Choose a password different from the current one.")])
    _validate_new(new, account.contract.number)
    account.password = make_password(new)
    account.must_change = False
    account.password_set_at = now or timezone.now()
    account.password_set_by = "subscriber"
    account.save(update_fields=["password", "must_change", "password_set_at", "password_set_by"])
    return account


def _validate_new(password: str, number: str) -> None:
    """Django's password validators, and never the 050 number itself."""
    problems: list[str] = []
    try:
        validate_password(password)
    except ValidationError as error:
        problems.extend(str(message) for message in error.messages)
    digits = normalise_number(password)
    if digits == number or (number and number in digits):
        problems.append(_("The password must not contain the 050 number."))
    if problems:
        raise PasswordRejected(problems)
