"""The CDR spool: every call attempt appended as one JSON line to a local file.

Each Kamailio worker appends to its own file with one ``write(2)`` per record
(``O_APPEND``), so a crash of Kamailio loses nothing already written and never
leaves a half line for another writer to interleave with.  The web side's
ingest reads the files from its stored offsets (see ``denwa.calls.ingest``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SPOOL_SUFFIX = ".cdr.jsonl"


_SECONDS: dict[int, str] = {}
"""Recent whole seconds as ``YYYY-MM-DDTHH:MM:SS`` (UTC): formatting is on the call path."""


def iso(moment: float | None) -> str | None:
    """A Unix time as ISO 8601 with its UTC offset (the CDR file format).

    The same text as ``datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec=
    "milliseconds")`` (microseconds rounded half-even, then truncated to milliseconds),
    with the date and time of the whole second cached.
    """
    if moment is None:
        return None
    fraction, whole = math.modf(moment)
    second, micro = int(whole), round(fraction * 1e6)
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
    return f"{prefix}.{micro // 1000:03d}+00:00"


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass
class CdrSpool:
    """Appends CDRs to ``directory/<name>.cdr.jsonl``, opened lazily per process."""

    directory: Path
    name: str = ""
    _fd: int | None = None
    _pid: int | None = None

    def append(self, record: dict[str, Any]) -> None:
        """Write one CDR to the spool: one write of one line; ``OSError`` if it cannot."""
        line = (_ENCODE(record) + "\n").encode()
        fd = self._descriptor()
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"short write to the CDR spool ({written} of {len(line)} bytes)")

    def _descriptor(self) -> int:
        pid = os.getpid()
        if self._fd is None or self._pid != pid:  # forked: every worker gets its own file
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{self.name or 'sip'}-{pid}{SPOOL_SUFFIX}"
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            self._pid = pid
        return self._fd
