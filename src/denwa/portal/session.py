"""The signed-in subscriber in the Django session (view glue, no business rules).

The session holds the web account's id, a keyed hash of its password hash (so
that changing the password signs out every other session, as Django's own
auth does) and when it was last used.  A session unused for ``idle_minutes``
is over; the session cookie itself ends with the browser (settings).
"""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

from denwa.portal.conf import portal_settings
from denwa.portal.models import WebAccount

SESSION_KEY = "denwa_portal"
SEEN_EVERY = 60
"""Seconds between writes of the last-used time (not a session save on every page)."""


def _auth_hash(account: WebAccount) -> str:
    return salted_hmac("denwa.portal.session", account.password, algorithm="sha256").hexdigest()


def begin(request: HttpRequest, account: WebAccount) -> None:
    """Sign ``account`` in: a new session key (no fixation), its id and password hash."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "account": account.pk,
        "hash": _auth_hash(account),
        "seen": int(time.time()),
    }


def keep_after_password_change(request: HttpRequest, account: WebAccount) -> None:
    """The session that changed the password stays signed in (the others are out)."""
    data: dict[str, Any] = dict(request.session.get(SESSION_KEY) or {})
    data["hash"] = _auth_hash(account)
    request.session.cycle_key()
    request.session[SESSION_KEY] = data


def current(request: HttpRequest) -> tuple[WebAccount | None, bool]:
    """(the signed-in account or None, whether a session has just run out)."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None, False
    now = int(time.time())
    idle = portal_settings().idle_minutes * 60
    account = None
    if now - int(data.get("seen", 0)) <= idle:
        account = (
            WebAccount.objects.select_related("contract")
            .filter(pk=int(data.get("account") or 0))
            .first()
        )
    if account is None or not constant_time_compare(str(data.get("hash")), _auth_hash(account)):
        end(request)
        return None, True
    if now - int(data["seen"]) >= SEEN_EVERY:
        request.session[SESSION_KEY] = {**data, "seen": now}
    return account, False


def end(request: HttpRequest) -> None:
    """Sign out: the whole session goes."""
    request.session.flush()
