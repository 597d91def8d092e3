"""PHS carriers and which way calls with them may go (SPEC §1, seed サービスの対象).

Astel group: calls from us to Astel only, except Astel Tokyo subscribers of
全国コールサービス, who may also call us; NTT DoCoMo PHS and DDI Pocket: both
directions.  The carriers and their rules are operator data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InboundRule:
    """May a PHS carrier's subscriber call us?  ``service``: only with that service."""

    allowed: bool
    service: str | None = None

    @classmethod
    def parse(cls, text: str) -> InboundRule:
        """``yes``, ``no`` or ``service:<name>``."""
        if text == "yes":
            return cls(True)
        if text == "no":
            return cls(False)
        prefix = "service:"
        if text.startswith(prefix) and text[len(prefix) :]:
            return cls(True, text[len(prefix) :])
        raise ValueError(f"inbound must be yes, no or service:<name>, not {text!r}")

    def admits(self, caller_services: frozenset[str]) -> bool:
        """Whether a caller with ``caller_services`` may call us."""
        return self.allowed and (self.service is None or self.service in caller_services)


@dataclass(frozen=True)
class PhsCarrier:
    """A PHS carrier and its direction rules."""

    key: str
    name: str
    group: str
    outbound: bool
    inbound: InboundRule
