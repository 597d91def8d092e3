"""The only module that touches Kamailio's ``KSR``: ``SipMessage`` over KEMI calls."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import KSR  # type: ignore[import-not-found]  # provided by app_python3 inside Kamailio

GATEWAY_SET = 1
GATEWAY_ORDER = 8  # dispatcher algorithm: by priority, then the next on failure
AUTH_HA1 = 1  # auth flag: the password given is HA1
AUTH_CHECK_USER = 1  # auth check: the digest user must be the From user
ITERATOR = "denwa"  # the htable iterator's name (one at a time per process)


class KsrMessage:
    """The current request, seen through KSR (one instance per request).

    What the routing steps ask for repeatedly is read from Kamailio once per instance:
    the method and the From user cannot change while a request is routed, the
    R-URI user only through ``set_ruri_user`` and ``lookup_location``.
    """

    __slots__ = ("_from_user", "_method", "_ruri_user")

    def __init__(self) -> None:
        self._method: str | None = None
        self._from_user: str | None = None
        self._ruri_user: str | None = None

    def method(self) -> str:
        if self._method is None:
            self._method = str(KSR.pv.get("$rm") or "")
        return self._method

    def ruri_user(self) -> str:
        if self._ruri_user is None:
            self._ruri_user = str(KSR.pv.get("$rU") or "")
        return self._ruri_user

    def from_user(self) -> str:
        if self._from_user is None:
            self._from_user = str(KSR.pv.get("$fU") or "")
        return self._from_user

    def asserted_user(self) -> str | None:
        value = KSR.pv.get("$ai")
        if not value:
            return None
        user = str(value).split(":", 1)[-1].split("@", 1)[0]
        return user or None

    def call_id(self) -> str:
        return str(KSR.pv.get("$ci") or "")

    def source_ip(self) -> str:
        return str(KSR.pv.get("$si") or "")

    def source_port(self) -> int:
        return int(KSR.pv.get("$sp") or 0)

    def header(self, name: str) -> str | None:
        value = KSR.hdr.get(name)
        return str(value) if value else None

    def body(self) -> str:
        return str(KSR.pv.get("$rb") or "")

    def reply(self, code: int, reason: str, headers: Sequence[str] = ()) -> None:
        if headers:  # one reply lump for all of them
            KSR.hdr.append_to_reply("".join(header + "\r\n" for header in headers))
        KSR.sl.send_reply(code, reason)

    def auth_username(self) -> str | None:
        user = KSR.pv.get("$au")
        return str(user) if user else None

    def check_auth(self, realm: str, ha1: str, proxy: bool) -> int:
        return int(KSR.auth.pv_auth_check(realm, ha1, AUTH_HA1, AUTH_CHECK_USER))

    def challenge(self, realm: str, proxy: bool) -> None:
        KSR.auth.auth_challenge(realm, 0)  # 401 for REGISTER, 407 for the rest

    def consume_credentials(self) -> None:
        KSR.auth.consume_credentials()

    def save_location(self) -> bool:
        return bool(KSR.registrar.save("location", 0) > 0)

    def lookup_location(self, number: str) -> bool:
        self._ruri_user = None
        KSR.setuser(number)
        return bool(KSR.registrar.lookup("location") > 0)

    def record_route(self) -> None:
        KSR.rr.record_route()

    def set_ruri_user(self, user: str) -> None:
        self._ruri_user = None
        KSR.setuser(user)

    def add_header(self, header: str) -> None:
        KSR.hdr.append(header + "\r\n")

    def remove_header(self, name: str) -> None:
        KSR.hdr.remove(name)

    def track_dialog(self, variables: Mapping[str, str], max_seconds: int | None = None) -> None:
        if max_seconds is not None:  # otherwise the dialog module's default_timeout
            KSR.pv.seti("$avp(denwa_timeout)", max_seconds)  # the dialog module's timeout_avp
        KSR.pv.sets("$dlg_ctx(timeout_route)", "ksr_dialog_timeout")
        KSR.dialog.dlg_manage()
        for name, value in variables.items():
            self.set_dialog_var(name, value)

    def dialog_call_id(self) -> str:
        return str(KSR.pv.get("$dlg(callid)") or "")

    def set_dialog_var(self, name: str, value: str) -> None:
        KSR.pv.sets(f"$dlg_var({name})", value)

    def dialog_var(self, name: str) -> str | None:
        value = KSR.pv.get(f"$dlg_var({name})")
        return str(value) if value is not None else None

    def final_reply_code(self) -> int:
        code = KSR.pv.get("$T_reply_code")
        return int(code) if code else 0

    def is_cancelled(self) -> bool:
        return bool(KSR.tm.t_is_canceled() > 0)

    def watch_failures(self) -> None:
        KSR.tm.t_on_failure("ksr_failure_subscriber")

    def select_gateway(self) -> bool:
        return bool(KSR.dispatcher.ds_select_dst(GATEWAY_SET, GATEWAY_ORDER) > 0)

    def skip_gateway(self) -> bool:
        return bool(KSR.dispatcher.ds_next_dst() > 0)

    def gateway_address(self) -> str:
        return str(KSR.pv.get("$du") or "")

    def relay_to_gateway(self) -> bool:
        KSR.tm.t_on_failure("ksr_failure_gateway")
        return bool(KSR.tm.t_relay() > 0)

    def relay(self) -> bool:
        return bool(KSR.tm.t_relay() > 0)

    # --- shared memory: htables and the dialog module's count ------------------------------

    def htable_get(self, table: str, key: str) -> int | str | None:
        value = KSR.htable.sht_get(table, key)
        return value if isinstance(value, int | str) else None

    def htable_inc(self, table: str, key: str) -> int:
        return int(KSR.htable.sht_inc(table, key))

    def htable_dec(self, table: str, key: str) -> int:
        return int(KSR.htable.sht_dec(table, key))

    def htable_set(self, table: str, key: str, value: str, expire_seconds: int) -> None:
        KSR.htable.sht_setxs(table, key, value, expire_seconds)

    def htable_set_int(self, table: str, key: str, value: int) -> None:
        KSR.htable.sht_seti(table, key, value)

    @contextmanager
    def htable_locked(self, table: str, key: str) -> Iterator[None]:
        KSR.htable.sht_lock(table, key)
        try:
            yield
        finally:
            KSR.htable.sht_unlock(table, key)

    def htable_keys(self, table: str) -> list[str]:
        keys = []
        KSR.htable.sht_iterator_start(ITERATOR, table)
        try:
            while KSR.htable.sht_iterator_next(ITERATOR) > 0:
                keys.append(str(KSR.pv.get(f"$shtitkey({ITERATOR})")))
        finally:
            KSR.htable.sht_iterator_end(ITERATOR)
        return keys

    def htable_delete(self, table: str, key: str) -> None:
        KSR.htable.sht_rm(table, key)

    def calls_in_progress(self) -> int:
        # the dialog module's own count: ringing (early) and answered dialogs
        active = KSR.pv.get("$stat(active_dialogs)")
        early = KSR.pv.get("$stat(early_dialogs)")
        return int(active or 0) + int(early or 0)
