"""Kamailio's Python entry point: ``mod_init`` and the route methods, delegating to ``Router``.

Loaded by app_python3 through the loader script ``denwa sip`` writes (it adds the
virtualenv's site-packages, since Kamailio embeds Debian's Python 3.11).  The
Kamailio cfg (``kamailio.cfg.template``) calls these methods with ``python_exec``
only where something is to be decided; KSR is the same as under a KEMI engine.
"""

from __future__ import annotations

import os
from pathlib import Path

from denwa.core.protection.keys import GAUGE_RENEW_SECONDS
from denwa.sip.config import SipConfig
from denwa.sip.ksr import KsrMessage
from denwa.sip.protection import CallGuards, EventSpool, ProtectionWatcher
from denwa.sip.routing import Router
from denwa.sip.snapshot import SnapshotWatcher
from denwa.sip.spool import CdrSpool


def build_router() -> Router:
    """The router for this Kamailio instance, from ``DENWA_HOME``."""
    home = Path(os.environ.get("DENWA_HOME", "var")).resolve()
    config = SipConfig.load(home / "sip.toml", os.environ.get("DENWA_SIP_NODE") or None)
    guards = None
    if config.protections:
        guards = CallGuards(
            config.limits,
            ProtectionWatcher(home / "sip" / "protection.json"),
            EventSpool(home / "spool", config.node_name),
            node=config.node,
            peers=config.peer_nodes,
        )
    return Router(
        config=config,
        snapshots=SnapshotWatcher(home / "sip" / "snapshot.json"),
        spool=CdrSpool(
            home / "spool", config.node_name, reserve_bytes=config.spool_reserve_mb << 20
        ),
        guards=guards,
    )


class DenwaKemi:
    """The object Kamailio calls for every route."""

    def __init__(self) -> None:
        self.router = build_router()
        self._beats = 0

    def child_init(self, rank: int) -> int:
        return 0

    def ksr_request_route(self, msg: object) -> int:
        self.router.request(KsrMessage())
        return 1

    def ksr_source_blocked(self, msg: object) -> int:
        self.router.source_blocked(KsrMessage())
        return 1

    def ksr_flooding(self, msg: object) -> int:
        self.router.flooding(KsrMessage())
        return 1

    def ksr_in_dialog_invite(self, msg: object) -> int:
        self.router.in_dialog_invite(KsrMessage())
        return 1

    def ksr_failure_gateway(self, msg: object) -> int:
        self.router.gateway_failure(KsrMessage())
        return 1

    def ksr_failure_subscriber(self, msg: object) -> int:
        self.router.subscriber_failure(KsrMessage())
        return 1

    def ksr_dialog_timeout(self, msg: object) -> int:
        self.router.dialog_timeout(KsrMessage())
        return 1

    def ksr_dialog_event(self, msg: object, event: str) -> int:
        self.router.dialog_event(KsrMessage(), event)
        return 1

    def ksr_heartbeat(self, msg: object) -> int:
        """Every second, from the cfg's rtimer process: the node is alive (its heartbeat);
        with several nodes, its calls per line republished for the others."""
        self.router.spool.heartbeat()
        guards = self.router.guards
        if guards is not None and guards.peers:
            self._beats += 1
            if self._beats % GAUGE_RENEW_SECONDS == 0:
                guards.renew_gauges(KsrMessage())
        return 1


def mod_init() -> DenwaKemi:
    """Called once by app_python3 when Kamailio starts."""
    return DenwaKemi()
