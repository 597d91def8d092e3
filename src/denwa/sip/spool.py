"""The CDR spool: every call attempt appended as one JSON line to a local file.

Each Kamailio worker appends to its own file with one ``write(2)`` per record
(``O_APPEND``), so a crash of Kamailio loses nothing already written and never
leaves a half line for another writer to interleave with.  The web side's
ingest reads the files from its stored offsets (see ``denwa.calls.ingest``).

Two more things live next to the records:

- the node's heartbeat, ``<node>-<main pid>.alive``, whose modification time a
  Kamailio timer process renews every second: the ingest closes the open calls of
  a node whose heartbeat went stale (``node_failure``, ended at the last beat);
- the room left: ``CdrSpool.has_room`` says whether a new call can be accepted
  (its records must have somewhere to go), from ``statvfs`` at most once a second
  and the outcome of the last write.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

SPOOL_SUFFIX = ".cdr.jsonl"
HEARTBEAT_SUFFIX = ".alive"
"""A node's heartbeat file in the spool directory: ``<node>-<Kamailio main pid>.alive``."""
ROOM_CHECK_SECONDS = 1.0
"""How often a worker asks the file system how much room the spool has left."""
logger = logging.getLogger(__name__)
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


def journal_line(call: str, answer: str, max_end: str, node: str | None = None) -> str:
    """The answer journal record: the call is answered and lasts at most until ``max_end``.

    ``node`` names the node instance whose heartbeat vouches for the call being up
    (``CdrSpool.node``); without it the call can only be closed at ``max_end``.
    """
    tail = "" if node is None else f',"node":{_STRING(node)}'
    return (
        f'{{{call},"answer":"{answer}","end":null,'
        f'"disposition":"{IN_PROGRESS}","max_end":"{max_end}"{tail}}}\n'
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
    ``reserve_bytes`` is the room a new call needs on the spool's file system
    (``has_room``): below it, calls in progress still write their records, new ones
    are refused.
    """

    directory: Path
    name: str = ""
    reserve_bytes: int = 0
    clock: Callable[[], float] = time.monotonic
    _fd: int | None = None
    _forks: int = -1
    _node: str = ""
    _node_forks: int = -1
    _room: bool = True
    _room_checked: float = float("-inf")
    _write_failed: bool = False

    def append(self, record: dict[str, Any]) -> None:
        """Write one CDR to the spool: one write of one line; ``OSError`` if it cannot."""
        self._write(_ENCODE(record) + "\n")

    def append_cdr(
        self, call: str, answer: str | None, end: str, disposition: str, sip_code: int | None
    ) -> None:
        """Write a call's final record (``cdr_line``): one write of one line."""
        self._write(cdr_line(call, answer, end, disposition, sip_code))

    def append_journal(self, call: str, answer: str, max_end: str) -> None:
        """Write a call's answer journal record (``journal_line``), naming this node."""
        self._write(journal_line(call, answer, max_end, self.node))

    @property
    def node(self) -> str:
        """This node instance: ``<name>-<pid of Kamailio's main process>``.

        Every Kamailio process is forked by the main one, so its parent names the
        instance; a restarted node is another instance, with its own heartbeat.
        """
        if self._node_forks != _forks:
            self._node = f"{self.name or 'sip'}-{os.getppid()}"
            self._node_forks = _forks
        return self._node

    def heartbeat(self) -> None:
        """Renew this node's heartbeat file (``<node>.alive``): its mtime is the last beat."""
        path = self.directory / f"{self.node}{HEARTBEAT_SUFFIX}"
        try:
            os.utime(path)
        except FileNotFoundError:
            self.directory.mkdir(parents=True, exist_ok=True)
            path.touch()  # an empty file needs no data block: works on a full disk too

    def has_room(self) -> bool:
        """Whether a new call may be accepted: its records have somewhere to go.

        False while the spool's file system has less than ``reserve_bytes`` free
        (asked at most once a second) or since the last write failed (until the next
        check finds room).
        """
        now = self.clock()
        if now - self._room_checked >= ROOM_CHECK_SECONDS:
            self._room_checked = now
            free = free_bytes(self.directory)
            room = free is None or (free > 0 and free >= self.reserve_bytes)
            if room != self._room or (room and self._write_failed):
                level = logging.WARNING if room else logging.ERROR
                logger.log(
                    level,
                    "CDR spool %s: %s bytes free (reserve %d): new calls %s",
                    self.directory,
                    free,
                    self.reserve_bytes,
                    "accepted again" if room else "refused with 503",
                )
            self._room = room
            if room:
                self._write_failed = False
        return self._room and not self._write_failed

    def _write(self, text: str) -> None:
        line = text.encode()
        try:
            written = os.write(self._descriptor(), line)
        except OSError:
            self._write_failed = True  # no new call until the disk has room again
            raise
        if written != len(line):
            self._write_failed = True
            raise OSError(f"short write to the CDR spool ({written} of {len(line)} bytes)")

    def _descriptor(self) -> int:
        if self._fd is None or self._forks != _forks:  # every worker gets its own file
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{self.name or 'sip'}-{os.getpid()}{SPOOL_SUFFIX}"
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            self._forks = _forks
            self.heartbeat()  # the node's heartbeat exists before its first journal record
        return self._fd


def free_bytes(directory: Path) -> int | None:
    """Bytes an unprivileged writer can still put on ``directory``'s file system.

    None if the file system cannot be asked (then only a failed write refuses calls).
    """
    try:
        stats = os.statvfs(directory if directory.exists() else directory.parent)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize
