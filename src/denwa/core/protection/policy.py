"""The protection policy as one value: rules and refusal wording, loaded and validated.

Like every operator file, ``protection.csv`` and ``protection_refusals.csv`` in
the operator's data directory replace the shipped ones (``denwa/data/defaults``);
an error names the file, the line and the problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from denwa.core.errors import OperatorDataError
from denwa.core.operator_data.loader import default_data_dir
from denwa.core.protection.refusals import (
    REFUSALS_FILE,
    ProtectionRefusals,
    parse_protection_refusals,
)
from denwa.core.protection.rules import RULES_FILE, ProtectionRules, parse_protection_rules


@dataclass(frozen=True)
class ProtectionPolicy:
    """The rules, the refusals' wording, and the versions (SHA-256) of the files they came from."""

    rules: ProtectionRules
    refusals: ProtectionRefusals
    sources: Mapping[str, str]

    @property
    def key(self) -> str:
        """Identifies the file versions: the SIP workers reload the policy when it changes."""
        return ",".join(f"{name}:{sha[:16]}" for name, sha in sorted(self.sources.items()))


def load_protection(directory: Path | str | None = None) -> ProtectionPolicy:
    """The policy from the operator's ``directory`` (file by file), else the shipped files."""
    texts: dict[str, tuple[str, str]] = {}
    sources: dict[str, str] = {}
    for name in (RULES_FILE, REFUSALS_FILE):
        path = _path(directory, name)
        try:
            raw = path.read_bytes()
            texts[name] = (str(path), raw.decode("utf-8-sig"))
        except OSError as error:
            raise OperatorDataError(path, None, f"cannot read: {error.strerror}") from None
        except UnicodeDecodeError:
            raise OperatorDataError(path, None, "not UTF-8 text") from None
        sources[name] = hashlib.sha256(raw).hexdigest()
    return ProtectionPolicy(
        rules=parse_protection_rules(*texts[RULES_FILE]),
        refusals=parse_protection_refusals(*texts[REFUSALS_FILE]),
        sources=sources,
    )


def _path(directory: Path | str | None, name: str) -> Path:
    if directory is not None:
        override = Path(directory)
        if not override.is_dir():
            raise OperatorDataError(override, None, "operator data directory does not exist")
        if (override / name).is_file():
            return override / name
    return default_data_dir() / name
