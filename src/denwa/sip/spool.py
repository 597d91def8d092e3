"""The CDR spool: every call attempt appended as one JSON line to a local file.

Each Kamailio worker appends to its own file with one ``write(2)`` per record
(``O_APPEND``), so a crash of Kamailio loses nothing already written and never
leaves a half line for another writer to interleave with.  The web side's
ingest reads the files from its stored offsets (see ``denwa.calls.ingest``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

SPOOL_SUFFIX = ".cdr.jsonl"
IN_PROGRESS = "in_progress"
"""The disposition of an answer journal record (the call's CDR comes at its end)."""


_SECONDS: dict[int, str] = {}
"""Recent whole seconds as ``YYYY-MM-DDTHH:MM:SS`` (UTC): formatting is on the call path."""
_MILLISECONDS = tuple(f".{ms:03d}+00:00" for ms in range(1000))


@overload
def iso(moment: float) -> str: ...
@overload
def iso(moment: None) -> None: ...
def iso(moment: float | None) -> str | None:
    """A Unix time as ISO 8601 with its UTC offset (the CDR file format).

    The same text as ``datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec=
    "milliseconds")`` (microseconds rounded half-even, then truncated to milliseconds),
    with the date and time of the whole second cached.
    """
    if moment is None:
        return None
    second = int(moment)
    micro = round((moment - second) * 1e6)  # moment - int(moment) is exact, as math.modf
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    elif micro < 0:
        second, micro = second - 1, micro + 1_000_000
    prefix = _SECONDS.get(second)
    if prefix is None:
        if len(_SECONDS) >= 256:
            _SECONDS.clear()
        prefix = datetime.fromtimestamp(second, tz=UTC).isoformat(timespec="seconds")[:-6]
        _SECONDS[second] = prefix
    return prefix + _MILLISECONDS[micro // 1000]


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_STRING: Callable[[str], str] = json.encoder.encode_basestring
"""A text as a JSON string, escaped as ``_ENCODE`` escapes it (non-ASCII kept)."""


def call_fields(cdr_id: str, caller: str, callee: str, start: float) -> str:
    """The members every record of one call begins with, as JSON text (without braces).

    Made once per call, when its INVITE is routed: the answer journal record and
    the CDR then only add their own members (``CdrSpool.append_journal``/``append_cdr``).
    """
    return (
        f'"id":{_STRING(cdr_id)},"caller":{_STRING(caller)},'
        f'"callee":{_STRING(callee)},"start":"{iso(start)}"'
    )


def cdr_line(
    call: str, answer: str | None, end: str, disposition: str, sip_code: int | None
) -> str:
    """A call's final record: ``call`` from ``call_fields``, the times from ``iso``.

    The JSON line ``append`` writes for ``{id, caller, callee, start, answer, end,
    disposition, sip_code}``, without building and encoding that dict per call.
    """
    answered = "null" if answer is None else f'"{answer}"'
    code = "null" if sip_code is None else str(int(sip_code))
    return (
        f'{{{call},"answer":{answered},"end":"{end}",'
        f'"disposition":{_STRING(disposition)},"sip_code":{code}}}\n'
    )


def journal_line(call: str, answer: str, max_end: str) -> str:
    """The answer journal record: the call is answered and lasts at most until ``max_end``."""
    return (
        f'{{{call},"answer":"{answer}","end":null,'
        f'"disposition":"{IN_PROGRESS}","max_end":"{max_end}"}}\n'
    )


_forks = 0
"""How many forks this process descends from (since this module was imported)."""


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)  # app_python3 runs these in Kamailio's workers too


@dataclass
class CdrSpool:
    """Appends CDRs to ``directory/<name>-<pid>.cdr.jsonl``, opened lazily per process.

    A descriptor opened before a fork belongs to the parent: the child opens its own
    file (noticed through a fork counter, not a ``getpid`` system call per record).
    """

    directory: Path
    name: str = ""
    _fd: int | None = None
    _forks: int = -1

    def append(self, record: dict[str, Any]) -> None:
        """Write one CDR to the spool: one write of one line; ``OSError`` if it cannot."""
        self._write(_ENCODE(record) + "\n")

    def append_cdr(
        self, call: str, answer: str | None, end: str, disposition: str, sip_code: int | None
    ) -> None:
        """Write a call's final record (``cdr_line``): one write of one line."""
        self._write(cdr_line(call, answer, end, disposition, sip_code))

    def append_journal(self, call: str, answer: str, max_end: str) -> None:
        """Write a call's answer journal record (``journal_line``)."""
        self._write(journal_line(call, answer, max_end))

    def _write(self, text: str) -> None:
        line = text.encode()
        fd = self._descriptor()
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"short write to the CDR spool ({written} of {len(line)} bytes)")

    def _descriptor(self) -> int:
        if self._fd is None or self._forks != _forks:  # every worker gets its own file
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{self.name or 'sip'}-{os.getpid()}{SPOOL_SUFFIX}"
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            self._forks = _forks
        return self._fd
