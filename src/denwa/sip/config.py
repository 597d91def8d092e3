"""SIP service configuration: ports, interconnect gateways, limits.

Defaults here; an operator overrides any of them in ``DENWA_HOME/sip.toml``::

    listen_port = 5060
    gateways = ["127.0.0.1:5070", "127.0.0.1:5071"]   # tried in this order
    max_call_seconds = 14400
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from denwa.core.errors import OperatorDataError


@dataclass(frozen=True)
class SipConfig:
    """Everything the SIP side needs to know besides the policy snapshot."""

    listen_address: str = "127.0.0.1"
    listen_port: int = 5060
    realm: str = "denwa.local"
    gateways: tuple[str, ...] = ("127.0.0.1:5070",)
    trusted_sources: tuple[str, ...] = ()  # "ip" or "ip:port"; default: the gateways
    max_call_seconds: int = 4 * 3600
    gateway_timeout_seconds: int = 4
    children: int = field(default_factory=lambda: os.cpu_count() or 2)
    """Kamailio's UDP workers: one per CPU.  Each runs its own Python; more workers than
    CPUs only make them evict each other's caches (BENCHMARKS.md, SIP capacity)."""
    shared_memory_mb: int = 256
    private_memory_mb: int = 16

    @cached_property
    def trusted(self) -> frozenset[str]:
        """Sources ("ip" or "ip:port") whose INVITEs are the interconnect's (no digest auth)."""
        return frozenset(self.trusted_sources or self.gateways)

    @cached_property
    def _trusted_pairs(self) -> frozenset[tuple[str, int]]:
        """The "ip:port" entries of ``trusted`` as (ip, port), for ``is_trusted``."""
        pairs = (entry.rsplit(":", 1) for entry in self.trusted if ":" in entry)
        return frozenset(
            (ip, int(port)) for ip, port in pairs if port.isdigit() and str(int(port)) == port
        )

    def is_trusted(self, ip: str, port: int) -> bool:
        """Whether a request from ``ip:port`` comes from the interconnect.

        An entry of ``trusted`` is either the ip itself or exactly "ip:port".
        """
        return ip in self.trusted or (ip, port) in self._trusted_pairs

    @classmethod
    def load(cls, path: Path | None) -> SipConfig:
        """Defaults, overridden by ``path`` (TOML) when it exists."""
        if path is None or not path.exists():
            return cls()
        try:
            raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise OperatorDataError(path, getattr(error, "lineno", None), str(error)) from None
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in known:
                raise OperatorDataError(path, None, f"unknown setting {key!r}")
            default = getattr(cls(), key)
            if isinstance(default, tuple):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise OperatorDataError(path, None, f"{key} must be a list of strings")
                value = tuple(value)
            elif not isinstance(value, type(default)) or isinstance(value, bool) != isinstance(
                default, bool
            ):
                raise OperatorDataError(path, None, f"{key} must be a {type(default).__name__}")
            values[key] = value
        return replace(cls(), **values)
