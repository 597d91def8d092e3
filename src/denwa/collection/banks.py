"""The bank and branch code list: the ``zengin-code`` dataset, when it is installed.

``pip install denwa[banks]`` installs it; without it (or with the
``check_bank_codes`` setting off) mandates are checked for form only.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from denwa.core.collection.mandate import BankDirectory


class ZenginCodeDirectory:
    """``BankDirectory`` over the zengin-code package's ``Bank.all``."""

    def __init__(self, module: Any) -> None:
        self._banks: dict[str, Any] = dict(module.Bank.all)
        self.source = f"the zengin-code bank list {module.__version__}"

    def bank_kana(self, bank_code: str) -> str | None:
        bank = self._banks.get(bank_code)
        return None if bank is None else str(bank.kana)

    def branch_kana(self, bank_code: str, branch_code: str) -> str | None:
        bank = self._banks.get(bank_code)
        branch = None if bank is None else bank.branches.get(branch_code)
        return None if branch is None else str(branch.kana)


@cache
def installed_directory() -> BankDirectory | None:
    """The zengin-code list (loaded once per process), or None when it is not installed."""
    try:
        module = importlib.import_module("zengin_code")
    except ImportError:
        return None
    return ZenginCodeDirectory(module)
