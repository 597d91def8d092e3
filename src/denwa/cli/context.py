"""What every command shares: where the operator data is, loaded once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from denwa.core.operator_data.bundle import OperatorData
from denwa.core.operator_data.loader import load_operator_data


@dataclass
class Settings:
    """Command-line settings and the lazily loaded operator data."""

    data_dir: Path | None = None
    _data: OperatorData | None = field(default=None, repr=False)

    @property
    def data(self) -> OperatorData:
        """The operator data snapshot (validated on first use)."""
        if self._data is None:
            self._data = load_operator_data(self.data_dir)
        return self._data
