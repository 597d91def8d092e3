"""Whether a re-INVITE puts a call on hold (SPEC §7: holding the line).

RFC 3264 §8.4: the party holding the call offers ``a=sendonly`` (or
``a=inactive`` when the other side already holds it); RFC 2543's older way is
the connection address ``0.0.0.0``.  A media line's attribute overrides the
session's; without any, a stream is ``sendrecv``.  A call is on hold when
every media stream is.
"""

from __future__ import annotations

HOLDING = frozenset({"sendonly", "inactive"})
DIRECTIONS = frozenset({"sendonly", "inactive", "recvonly", "sendrecv"})
NO_ADDRESS = frozenset({"0.0.0.0", "::"})


def puts_on_hold(sdp: str) -> bool | None:
    """True: the offer holds the call; False: it takes it off hold; None: no SDP to tell by."""
    session_direction = "sendrecv"
    session_silent = False
    streams: list[tuple[str | None, bool]] = []
    for raw in sdp.splitlines():
        line = raw.strip()
        kind, _, value = line.partition("=")
        if kind == "m":
            streams.append((None, False))
        elif kind == "a" and value in DIRECTIONS:
            if streams:
                streams[-1] = (value, streams[-1][1])
            else:
                session_direction = value
        elif kind == "c" and value.split(" ")[-1] in NO_ADDRESS:
            if streams:
                streams[-1] = (streams[-1][0], True)
            else:
                session_silent = True
    if not streams:
        return None
    return all(
        silent or session_silent or (direction or session_direction) in HOLDING
        for direction, silent in streams
    )
